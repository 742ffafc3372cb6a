// Commands in flight on one Redis connection; see redis_command_queue.h.
#include "core/redis_command_queue.h"

#include <cassert>

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

void RedisCommandQueue::push(RedisCallback callback, void* data, uint64_t deadline,
                             uint8_t replicas) {
  commands_.push_back(Command{callback, data, deadline, replicas, false});
}

void RedisCommandQueue::push_wait(uint8_t replicas, uint64_t deadline) {
  commands_.push_back(Command{nullptr, nullptr, deadline, replicas, true});
  ++waits_;
}

void RedisCommandQueue::reply(ReplyPtr reply) {
  const redisReply* r = reply.get();
  answer(r, &reply);
}

void RedisCommandQueue::answer(const redisReply* reply, ReplyPtr* owned) {
  if (commands_.empty()) return;
  Command oldest = commands_.front();
  commands_.pop_front();
  if (oldest.wait) {
    --waits_;
    if (late_ > 0) --late_;
    release(reply, oldest.replicas);
  } else if (late_ > 0) {
    --late_;  // answered kTimeout already
  } else if (oldest.replicas > 0 && reply != nullptr && reply->type != REDIS_REPLY_ERROR) {
    assert(owned != nullptr && "a durable command's reply must be passed with its ownership");
    held_.push_back(Held{oldest.callback, oldest.data, oldest.deadline, std::move(*owned)});
  } else {
    complete_once(oldest.callback, oldest.data, redis_result_of(reply));
  }
  if (reply == nullptr && commands_.empty()) release(nullptr, 0);
}

void RedisCommandQueue::release(const redisReply* wait_reply, uint8_t replicas) {
  std::string why;
  bool replicated = false;
  if (wait_reply == nullptr) {
    why = "connection lost";
  } else if (wait_reply->type == REDIS_REPLY_INTEGER) {
    replicated = wait_reply->integer >= replicas;
    why = std::to_string(wait_reply->integer) + " of " + std::to_string(replicas) +
          " replicas acknowledged in time";
  } else {
    why = "WAIT: " + std::string(redis_result_of(wait_reply).error);
  }
  // By value, oldest first: a callback may push commands, or drop the
  // connection (which finds nothing held any more).
  std::deque<Held> held = std::move(held_);
  held_.clear();
  for (Held& h : held) {
    RedisResult result = redis_result_of(h.reply.get());
    if (wait_reply == nullptr) {
      result.status = RedisStatus::kConnectionLost;
    } else if (!replicated) {
      result.status = RedisStatus::kNotReplicated;
      result.error = why;
    }
    complete_once(h.callback, h.data, result);
  }
}

void RedisCommandQueue::expire(uint64_t now) {
  RedisResult timeout;
  timeout.status = RedisStatus::kTimeout;
  // Oldest first, as for the waiting ones below; one at a time, from the
  // front again: a callback may drop the connection (which answers and
  // forgets every held command) or send more.
  RedisResult unconfirmed;
  unconfirmed.status = RedisStatus::kNotReplicated;
  unconfirmed.error = "replication not confirmed within the deadline";
  while (!held_.empty() && held_.front().deadline <= now) {
    Held h = std::move(held_.front());
    held_.pop_front();
    unconfirmed.reply = h.reply.get();
    complete_once(h.callback, h.data, unconfirmed);
  }
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
  if (!held_.empty()) due = held_.front().deadline;
  if (late_ < commands_.size() && (!due || commands_[late_].deadline < *due))
    due = commands_[late_].deadline;
  if (late_ > 0) {
    uint64_t grace_ends = commands_.front().deadline + late_reply_grace_ms;
    if (!due || grace_ends < *due) due = grace_ends;
  }
  return due;
}

}  // namespace streamshift
