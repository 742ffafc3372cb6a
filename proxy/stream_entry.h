// The Redis Streams entry an event becomes: contract v1 (core/event_entry.h,
// docs/event-entry.md) in the stream its route names.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/event_entry.h"
#include "core/redis_commands.h"

namespace streamshift {

struct StreamEntry {
  std::string_view stream;
  EventEntry contract;  // the entry's values: views (into a request, or a held event)
  /// The body stays valid until the XADD's callback has run: it is then
  /// referenced where it is, not copied (RedisCommandArgs::borrowed).
  bool body_outlives_reply = false;
  /// Acknowledged only once this many replicas have it (RedisCommandArgs::replicas).
  uint8_t replicas = 0;
};

/// What an XADD's answer means, for every caller (fresh, held and shadow copies): stored
/// only with a string reply, the entry id; any other reply, an error, a timeout or a lost
/// connection is a failure.
struct XaddReply {
  bool stored = false;
  std::string_view entry_id;  // when stored; valid during the callback only
  RedisStatus status = RedisStatus::kOk;
  std::string_view error;  // for kErrorReply, and kNotReplicated (how many had it)
};
XaddReply read_xadd_reply(const RedisResult& result);

/// XADD <stream> MAXLEN ~ <max_len> * v 1 event_id ... body <body> (binary
/// safe). The arguments are copied, except the body when the entry says it
/// outlives the reply. The caller has checked the entry (check_entry): only
/// what the relay accepts is stored.
void publish_entry(RedisCommands& redis, const StreamEntry& entry, int64_t max_len,
                   uint64_t timeout_ms, RedisCallback callback, void* data);

}  // namespace streamshift
