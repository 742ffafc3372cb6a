// The Redis Streams entry an event becomes: contract v1, documented in
// docs/event-entry.md. Field order is fixed; user_id only when present.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/redis_client.h"

namespace streamshift {

inline constexpr std::string_view kEntryVersion = "1";

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
};

/// XADD <stream> MAXLEN ~ <max_len> * v 1 event_id ... body <body>, through
/// redisAsyncCommandArgv (binary safe; hiredis copies the arguments).
void publish_entry(RedisClient& redis, const StreamEntry& entry, int64_t max_len,
                   uint64_t timeout_ms, RedisCallback callback, void* data);

}  // namespace streamshift
