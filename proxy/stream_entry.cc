// XADD of an event entry; see stream_entry.h.
#include "proxy/stream_entry.h"

#include <charconv>

namespace streamshift {

void publish_entry(RedisClient& redis, const StreamEntry& e, int64_t max_len, uint64_t timeout_ms,
                   RedisCallback callback, void* data) {
  char max_len_text[24], ts_text[24];
  auto max_len_end = std::to_chars(max_len_text, max_len_text + sizeof max_len_text, max_len).ptr;
  auto ts_end = std::to_chars(ts_text, ts_text + sizeof ts_text, e.ts_ms).ptr;
  std::string_view args[28];
  int n = 0;
  auto push = [&](std::string_view a) { args[n++] = a; };
  push("XADD");
  push(e.stream);
  push("MAXLEN");
  push("~");
  push(std::string_view(max_len_text, static_cast<size_t>(max_len_end - max_len_text)));
  push("*");
  push("v");
  push(kEntryVersion);
  push("event_id");
  push(e.event_id);
  push("event_type");
  push(e.event_type);
  push("room_id");
  push(e.room_id);
  if (e.has_user_id) {
    push("user_id");
    push(e.user_id);
  }
  push("ts_ms");
  push(std::string_view(ts_text, static_cast<size_t>(ts_end - ts_text)));
  push("method");
  push(e.method);
  push("path");
  push(e.path);
  push("content_type");
  push(e.content_type);
  push("body");
  push(e.body);
  const char* argv[28];
  size_t lens[28];
  for (int i = 0; i < n; ++i) {
    argv[i] = args[i].data();
    lens[i] = args[i].size();
  }
  redis.command(n, argv, lens, timeout_ms, callback, data);
}

}  // namespace streamshift
