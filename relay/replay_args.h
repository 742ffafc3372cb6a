// `streamshift replay`'s command line: what to replay (a stream, a range of
// ids or times, optional room and event-type filters) and how (rate, dry
// run, skip what was delivered). Pure: the clock's reading is passed in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_entry.h"

namespace streamshift {

extern const std::string_view kReplayUsage;

struct ReplayArgs {
  std::string stream;  // a logical stream of STREAMSHIFT_STREAMS, or one shard
  /// The range, inclusive, as XRANGE ids ("<ms>-<seq>").
  std::string from_id;
  std::string to_id;
  std::optional<std::string> room;
  std::optional<std::string> event_type;
  uint64_t rate = 0;  // deliveries started per second; 0: no limit
  bool dry_run = false;
  bool skip_delivered = false;
  bool help = false;

  /// Whether the filters select `entry`.
  bool selects(const EventEntry& entry) const;
};

/// Which end of the range a bound is.
enum class RangeEnd { kFrom, kTo };

/// An id ("1700000000000-3", or "1700000000000": the whole millisecond) or
/// an RFC 3339 time, as the XRANGE id of that end: a time's first id
/// (<ms>-0) for --from, its last (<ms>-18446744073709551615) for --to.
/// nullopt when it is neither.
std::optional<std::string> range_bound_id(std::string_view text, RangeEnd end);

/// Parses the arguments after `replay`. `now_ms` (wall clock) is --to's
/// default, so a replay ends even while the stream grows. Returns an error
/// sentence, or empty with `out` filled (out->help alone when --help).
std::string parse_replay_args(const std::vector<std::string_view>& args, int64_t now_ms,
                              ReplayArgs* out);

}  // namespace streamshift
