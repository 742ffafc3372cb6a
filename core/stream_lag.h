// Reading Redis 7.0's XINFO replies (RESP2: maps are flat [key, value, ...]
// arrays) for a consumer group's lag: one parser for the admin API's
// look-ups (proxy/lag_monitor.cc) and the relay's lag gauges
// (relay/lag_gauges.cc). Each program keeps its own policy for failed
// look-ups; only the reading of the replies is shared.
//
// Redis 7.0 facts: a group's lag can be nil (after XDEL inside the unread
// range, or a group created at an arbitrary id), never to be reported as a
// number. Trimming at the head never shows in lag: when the stream's
// max-deleted-entry-id is newer than the group's last-delivered-id, entries
// were removed before the group read them.
#pragma once

#include <hiredis/hiredis.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace streamshift {

/// The value after `key` in a flat [key, value, ...] array, or null.
const redisReply* xinfo_field(const redisReply* map, std::string_view key);

/// XINFO STREAM <stream>: what lag reports need of it.
struct XinfoStream {
  int64_t length = 0;
  int64_t groups = 0;
  std::string max_deleted_id;  // empty when the reply has none
};
XinfoStream parse_xinfo_stream(const redisReply* reply);

/// One group's row of XINFO GROUPS <stream>.
struct XinfoGroup {
  bool found = false;
  std::string last_delivered_id;
  std::optional<int64_t> lag;  // nullopt: Redis reports nil (or the row has no lag)
};
XinfoGroup parse_xinfo_group(const redisReply* reply, std::string_view group);

/// XINFO CONSUMERS <stream> <group>: the consumers' names.
std::vector<std::string> parse_xinfo_consumers(const redisReply* reply);

/// "1700000000000-5" < "1700000000001-0": stream id order (unparsable ids as 0-0).
bool stream_id_less(const std::string& a, const std::string& b);

/// Entries were trimmed or deleted before the group read them: the stream's
/// max-deleted-entry-id is newer than the group's last-delivered-id.
bool trimmed_unread(const std::string& last_delivered_id, const std::string& max_deleted_id);

}  // namespace streamshift
