// The Redis Streams entry an event becomes: contract v1 (core/event_entry.h,
// docs/event-entry.md) in the stream its route names.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/event_entry.h"
#include "core/redis_client.h"

namespace streamshift {

struct StreamEntry {
  std::string_view stream;
  std::string_view event_id;
  std::string_view event_type;
  std::string_view room_id;
  std::string_view user_id;
  bool has_user_id = false;
  int64_t ts_ms = 0;
  std::string_view method;
  std::string_view path;  // the request target: path and query
  std::string_view content_type;
  std::string_view body;  // verbatim

  /// The contract's values (without the stream).
  EventEntry contract() const {
    return {.event_id = event_id,
            .event_type = event_type,
            .room_id = room_id,
            .user_id = user_id,
            .has_user_id = has_user_id,
            .ts_ms = ts_ms,
            .method = method,
            .path = path,
            .content_type = content_type,
            .body = body};
  }
};

/// XADD <stream> MAXLEN ~ <max_len> * v 1 event_id ... body <body>, through
/// redisAsyncCommandArgv (binary safe; hiredis copies the arguments). The
/// caller has checked the entry (check_entry): only what the relay accepts
/// is stored.
void publish_entry(RedisClient& redis, const StreamEntry& entry, int64_t max_len,
                   uint64_t timeout_ms, RedisCallback callback, void* data);

}  // namespace streamshift
