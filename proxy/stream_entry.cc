// XADD of an event entry; see stream_entry.h.
#include "proxy/stream_entry.h"

#include <charconv>

namespace streamshift {

void publish_entry(RedisClient& redis, const StreamEntry& e, int64_t max_len, uint64_t timeout_ms,
                   RedisCallback callback, void* data) {
  char max_len_text[24];
  auto max_len_end = std::to_chars(max_len_text, max_len_text + sizeof max_len_text, max_len).ptr;
  EncodedEntry fields(e.contract());
  constexpr size_t kHead = 6;
  const char* argv[kHead + EncodedEntry::kMaxStrings];
  size_t lens[kHead + EncodedEntry::kMaxStrings];
  int n = 0;
  auto push = [&](std::string_view a) {
    argv[n] = a.data();
    lens[n] = a.size();
    ++n;
  };
  push("XADD");
  push(e.stream);
  push("MAXLEN");
  push("~");
  push(std::string_view(max_len_text, static_cast<size_t>(max_len_end - max_len_text)));
  push("*");
  for (size_t i = 0; i < fields.size(); ++i) push(fields[i]);
  redis.command(n, argv, lens, timeout_ms, callback, data);
}

}  // namespace streamshift
