// Fuzz target: the Redis reply path, a byte stream from a broken or hostile
// "server" into the client's read side: core/redis_reply_reader (hiredis
// 0.14's reply reader with the bounds of RedisReplyLimits), driven as
// RedisConnection drives it: reads of at most 64 KiB (a RedisSocket read)
// fed in order, replies taken until none is complete, and the first error
// drops the connection.
//
// Input: [split byte][the bytes the server sends]. Each input runs in one
// piece and cut where the split byte says (pieces capped at 64 KiB).
// Checked: an error is reported with its reason and costs only the
// connection; every reply is a well-formed tree (known types, strings
// NUL-terminated at their length, arrays with every element present, no
// more than the 8 nested arrays hiredis allows); the replies hold no more
// payload than the bytes fed and the reader buffers no more than was fed;
// the replies and the error do not depend on where the stream was cut. An
// array header of two billion elements or a bulk string of a gigabyte fails
// the connection without allocating for it.
#include <hiredis/hiredis.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/redis_reply_reader.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/resp.h"
#include "fuzz/splits.h"

namespace streamshift::fuzz {
namespace {

constexpr size_t kReadSize = 64 * 1024;  // one RedisSocket read

struct Outcome {
  std::vector<std::string> replies;  // canonical dumps
  bool failed = false;
};

// Checks one reply tree and appends its canonical form; returns payload bytes.
size_t check_tree(const redisReply* r, int depth, std::string& dump) {
  FUZZ_CHECK(r != nullptr, "a NULL element");
  // hiredis refuses a ninth nested array: arrays at depths 0-7, leaves down to 8.
  FUZZ_CHECK(depth <= 8, "nesting deeper than hiredis allows");
  dump += std::to_string(r->type) + ":";
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      FUZZ_CHECK(r->str != nullptr && r->str[r->len] == '\0',
                 "string not terminated at its length");
      dump += std::to_string(r->len) + ":";
      dump.append(r->str, r->len);
      return r->len;
    case REDIS_REPLY_INTEGER:
      dump += std::to_string(r->integer);
      return 0;
    case REDIS_REPLY_NIL:
      return 0;
    case REDIS_REPLY_ARRAY: {
      FUZZ_CHECK(r->elements == 0 || r->element != nullptr, "array without elements");
      dump += std::to_string(r->elements) + "[";
      size_t bytes = 0;
      for (size_t i = 0; i < r->elements; ++i) bytes += check_tree(r->element[i], depth + 1, dump);
      dump += "]";
      return bytes;
    }
    default:
      fail(__FILE__, __LINE__, "unknown reply type", std::to_string(r->type));
  }
}

Outcome run(std::string_view stream, uint8_t split_seed) {
  Outcome out;
  streamshift::RedisReplyReader reader{streamshift::RedisReplyLimits{}};
  FUZZ_CHECK(reader.error().empty(), "a reader broken before any byte");
  Splitter split(split_seed);
  size_t fed = 0, payload = 0;
  while (fed < stream.size()) {
    size_t n = split.next(stream.size() - fed);
    if (n > kReadSize) n = kReadSize;
    if (!reader.feed(stream.data() + fed, n)) {
      FUZZ_CHECK(!reader.error().empty(), "a refused feed without its reason");
      out.failed = true;
      return out;
    }
    fed += n;
    while (streamshift::ReplyPtr reply = reader.next()) {
      std::string dump;
      payload += check_tree(reply.get(), 0, dump);
      FUZZ_CHECK(payload <= fed, "replies hold more than was fed");
      out.replies.push_back(std::move(dump));
    }
    if (!reader.error().empty()) {
      out.failed = true;  // the connection drops here
      return out;
    }
    FUZZ_CHECK(reader.buffered() <= fed, "the reader buffers more than was fed");
  }
  return out;
}

}  // namespace
}  // namespace streamshift::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace streamshift::fuzz;
  if (size < 1) return 0;
  std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  Outcome whole = run(stream, 0);
  if (data[0] != 0) {
    Outcome cut = run(stream, data[0]);
    FUZZ_CHECK(cut.failed == whole.failed && cut.replies == whole.replies,
               "whole: " + std::to_string(whole.replies.size()) + " replies" +
                   (whole.failed ? ", failed" : "") +
                   "; cut: " + std::to_string(cut.replies.size()) + " replies" +
                   (cut.failed ? ", failed" : "") + "\n  stream: " + printable(stream));
  }
  return 0;
}
