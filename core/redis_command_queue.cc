// Commands in flight on one Redis connection; see redis_command_queue.h.
#include "core/redis_command_queue.h"

#include "core/completion.h"

namespace streamshift {

RedisResult redis_result_of(const redisReply* reply) {
  RedisResult result;
  result.reply = reply;
  if (reply == nullptr) {
    result.status = RedisStatus::kConnectionLost;
  } else if (reply->type == REDIS_REPLY_ERROR) {
    result.status = RedisStatus::kErrorReply;
    result.error = std::string_view(reply->str, reply->len);
  }
  return result;
}

void RedisCommandQueue::push(RedisCallback callback, void* data, uint64_t deadline) {
  commands_.push_back(Command{callback, data, deadline});
}

void RedisCommandQueue::reply(const redisReply* reply) {
  if (commands_.empty()) return;
  Command oldest = commands_.front();
  commands_.pop_front();
  if (late_ > 0) {
    --late_;  // answered kTimeout already
    return;
  }
  complete_once(oldest.callback, oldest.data, redis_result_of(reply));
}

void RedisCommandQueue::expire(uint64_t now) {
  RedisResult timeout;
  timeout.status = RedisStatus::kTimeout;
  // By index: a callback may push commands, or drop the connection, which
  // replies NULL to (and forgets) every command, this one included.
  while (late_ < commands_.size() && commands_[late_].deadline <= now) {
    Command& c = commands_[late_++];
    complete_once(c.callback, c.data, timeout);
  }
}

std::string RedisCommandQueue::overdue(uint64_t now, const RedisReplyLimits& limits) const {
  if (late_ > limits.max_late_replies)
    return std::to_string(late_) + " replies to timed-out commands still owed";
  if (late_ > 0 && now >= commands_.front().deadline + limits.late_reply_grace_ms)
    return "a reply owed for " + std::to_string(now - commands_.front().deadline) +
           " ms past its deadline";
  return {};
}

std::optional<uint64_t> RedisCommandQueue::next_due(uint64_t late_reply_grace_ms) const {
  std::optional<uint64_t> due;
  if (late_ < commands_.size()) due = commands_[late_].deadline;
  if (late_ > 0) {
    uint64_t grace_ends = commands_.front().deadline + late_reply_grace_ms;
    if (!due || grace_ends < *due) due = grace_ends;
  }
  return due;
}

}  // namespace streamshift
