// Whole decimal numbers from untrusted text (URL ports, Redis replies,
// query strings, command-line counts): one strict rule for every reader.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace streamshift {

/// `text` as a number from `min` to `max` (0 <= min <= max), when it is
/// nothing but ASCII digits: no sign, '+', space or other byte, at most 18
/// of them; otherwise nullopt.
std::optional<int64_t> parse_decimal(std::string_view text, int64_t min, int64_t max);

}  // namespace streamshift
