// XADD of an event entry; see stream_entry.h.
#include "proxy/stream_entry.h"

#include <hiredis/hiredis.h>

#include <charconv>

namespace streamshift {

XaddReply read_xadd_reply(const RedisResult& result) {
  XaddReply r;
  r.status = result.status;
  r.error = result.error;
  r.stored = result.status == RedisStatus::kOk && result.reply != nullptr &&
             result.reply->type == REDIS_REPLY_STRING;
  if (r.stored) r.entry_id = std::string_view(result.reply->str, result.reply->len);
  return r;
}

void publish_entry(RedisCommands& redis, const StreamEntry& e, int64_t max_len, uint64_t timeout_ms,
                   RedisCallback callback, void* data) {
  char max_len_text[24];
  auto max_len_end = std::to_chars(max_len_text, max_len_text + sizeof max_len_text, max_len).ptr;
  EncodedEntry fields(e.contract);
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
  // The body is the last value of the entry.
  uint64_t borrowed = e.body_outlives_reply ? uint64_t{1} << (n - 1) : 0;
  redis.command(RedisCommandArgs{n, argv, lens, borrowed, e.replicas}, timeout_ms, callback, data);
}

}  // namespace streamshift
