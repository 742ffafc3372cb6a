// RESP helpers for the targets that read Redis replies with hiredis 0.14's
// reader, the one inside every redisAsyncContext of core/redis_client.
#pragma once

#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <string_view>

namespace streamshift::fuzz {

struct ReplyDeleter {
  void operator()(redisReply* r) const {
    if (r != nullptr) freeReplyObject(r);
  }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

struct ReaderDeleter {
  void operator()(redisReader* r) const { redisReaderFree(r); }
};
using Reader = std::unique_ptr<redisReader, ReaderDeleter>;

/// hiredis reads a socket 16 KiB at a time (redisBufferRead) and feeds each read.
constexpr size_t kHiredisReadSize = 16 * 1024;

inline std::string bulk(std::string_view s) {
  std::string out = "$" + std::to_string(s.size()) + "\r\n";
  out.append(s);
  out += "\r\n";
  return out;
}

}  // namespace streamshift::fuzz
