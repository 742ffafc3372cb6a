// The commands one Redis connection has sent and not yet had replies to,
// with their deadlines. Pure logic over the times it is given: no loop, no
// socket.
//
// hiredis answers in send order, and a command whose deadline passes is
// answered kTimeout at once but stays until its reply comes (0.14 cannot
// cancel a command), "late". Deadlines are checked from the oldest waiting
// command on, so the late commands are always the oldest ones:
//
//   oldest                                                    newest
//   [ late: answered kTimeout, reply owed | waiting for a reply      ]
//          ^ reply(): frees one                 ^ reply(): answers one
//          ^ expire(now): waiting ones whose deadline passed turn late
//
// The connection is dropped when too many replies are owed, or one for too
// long (overdue(), RedisReplyLimits).
#pragma once

#include <hiredis/hiredis.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "core/redis_client.h"
#include "core/redis_reply_limits.h"

namespace streamshift {

/// A hiredis reply (NULL: the connection went) as the result a caller sees.
RedisResult redis_result_of(const redisReply* reply);

class RedisCommandQueue {
 public:
  /// A command hiredis accepted, due by `deadline` (ms on the caller's clock).
  void push(RedisCallback callback, void* data, uint64_t deadline);

  /// The reply to the oldest command: answers it, unless it timed out
  /// already, and forgets it. NULL when the connection went.
  void reply(const redisReply* reply);

  /// Answers kTimeout, oldest first, every waiting command whose deadline
  /// is at or before `now`; they stay, late, until their replies come.
  /// Callbacks may send commands or drop the connection meanwhile.
  void expire(uint64_t now);

  /// Why replies owed at `now` are past `limits` (too many, or one owed too
  /// long past its deadline), or "" when they are not.
  std::string overdue(uint64_t now, const RedisReplyLimits& limits) const;

  /// When expire() or overdue() next has something to do; nullopt when no
  /// command is in flight.
  std::optional<uint64_t> next_due(uint64_t late_reply_grace_ms) const;

  /// Commands sent and not yet replied to, late ones included.
  size_t size() const { return commands_.size(); }
  size_t late() const { return late_; }
  /// True when no command waits for a reply within its deadline.
  bool none_waiting() const { return late_ == commands_.size(); }

 private:
  struct Command {
    RedisCallback callback;  // null once answered (late)
    void* data;
    uint64_t deadline;
  };
  std::deque<Command> commands_;  // oldest first
  size_t late_ = 0;               // the first late_ commands are late
};

}  // namespace streamshift
