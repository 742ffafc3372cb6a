// Bytes to replies; see redis_reply_reader.h.
#include "core/redis_reply_reader.h"

namespace streamshift {

RedisReplyReader::RedisReplyReader(const RedisReplyLimits& limits)
    : guard_(limits), reader_(redisReaderCreate()) {
  if (reader_ == nullptr) {
    error_ = "out of memory";
    return;
  }
  guard_.attach(reader_);
}

RedisReplyReader::~RedisReplyReader() {
  if (reader_ != nullptr) redisReaderFree(reader_);
}

bool RedisReplyReader::feed(const char* data, size_t len) {
  if (!error_.empty()) return false;
  if (redisReaderFeed(reader_, data, len) != REDIS_OK) {
    error_ = std::string("protocol error: ") + reader_->errstr;
    return false;
  }
  return true;
}

ReplyPtr RedisReplyReader::next() {
  if (!error_.empty()) return nullptr;
  void* reply = nullptr;
  if (redisReaderGetReply(reader_, &reply) != REDIS_OK) {
    // A bound refused in the object hooks shows as hiredis' "out of memory".
    error_ = !guard_.refusal().empty() ? guard_.refusal()
                                       : std::string("protocol error: ") + reader_->errstr;
    return nullptr;
  }
  // None complete: what waits for more bytes must be within the bounds.
  if (reply == nullptr) error_ = guard_.check_buffered();
  return ReplyPtr(static_cast<redisReply*>(reply));
}

size_t RedisReplyReader::buffered() const {
  if (reader_ == nullptr || reader_->buf == nullptr || reader_->pos > reader_->len) return 0;
  return reader_->len - reader_->pos;
}

}  // namespace streamshift
