// RFC 3339 timestamps ("2026-11-30T12:00:00Z", "2026-11-30T13:00:00.250+01:00")
// read into milliseconds since the Unix epoch, for commands that take a
// point in time (stream ids are milliseconds too).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace streamshift {

/// `date-time` of RFC 3339 section 5.6: a 'T' (or 't') between date and
/// time, seconds required, any number of fractional digits (beyond the
/// millisecond truncated), then 'Z' (or 'z') or an offset +hh:mm / -hh:mm.
/// Years 1970-9999 only (stream ids cannot be earlier). A leap second (60)
/// only where one can be: at 23:59:60 UTC once the offset is applied (so
/// 15:59:60-08:00 too), read as the next second. nullopt for anything else.
std::optional<int64_t> parse_rfc3339_ms(std::string_view text);

}  // namespace streamshift
