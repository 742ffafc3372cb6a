// The read side of one Redis connection: bytes from the server in, whole
// replies out, within the bounds of RedisReplyLimits. hiredis 0.14's reply
// reader does the parsing (redisReaderFeed / redisReaderGetReply);
// ReplyGuard sits in its object hooks, and the bytes buffered for one
// element are checked after each feed.
//
//   feed(bytes) --> hiredis reader --> next(): reply, reply, ..., none yet
//                                             |                      |
//                   protocol error: error() --+   the element waiting for
//                                                 more bytes over a bound:
//                                                 error()
//
// The first error is final: the connection must go. No socket here; the
// fuzz target redis_reply drives this class with arbitrary byte streams.
#pragma once

#include <hiredis/hiredis.h>

#include <cstddef>
#include <memory>
#include <string>

#include "core/redis_reply_limits.h"

namespace streamshift {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

class RedisReplyReader {
 public:
  explicit RedisReplyReader(const RedisReplyLimits& limits);
  ~RedisReplyReader();
  RedisReplyReader(const RedisReplyReader&) = delete;
  RedisReplyReader& operator=(const RedisReplyReader&) = delete;

  /// Adds bytes read; false once the stream is broken (see error()).
  bool feed(const char* data, size_t len);
  /// The next complete reply, or null (none complete yet, or error()).
  ReplyPtr next();
  /// Why the stream is broken ("protocol error: ...", a bound), or "".
  const std::string& error() const { return error_; }
  /// Bytes fed and not yet turned into replies.
  size_t buffered() const;

 private:
  ReplyGuard guard_;  // outlives reader_, whose hooks point at it
  redisReader* reader_;
  std::string error_;
};

}  // namespace streamshift
