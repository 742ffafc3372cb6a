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
//
// Durable commands (RedisCommandArgs::replicas > 0) are followed, at the
// end of their loop turn's batch, by one WAIT (push_wait()). A durable
// command's reply is held, not answered, until that WAIT's reply says how
// many replicas have it:
//
//   commands: [ X1 X2 WAIT | X3 ... ]     held: [ ]
//   reply X1, X2 ------------------------> held: [ X1 X2 ]
//   reply WAIT n: n >= replicas: X1, X2 answered with their own replies
//                 n <  replicas: kNotReplicated (their replies attached)
//
// A held command keeps its deadline: past it, expire() answers it
// kNotReplicated (it is stored; its replication was not confirmed in time:
// Redis checks a WAIT's own timeout only on its clock tick, up to 100 ms
// late), and the WAIT's verdict then skips it. A WAIT blocks its connection
// on the server until it answers, so the connection sends nothing more
// while one is out (waits(): redis_connection.h). Callbacks of one batch
// may run out of send order: an error reply is answered at once, the
// stored ones when their WAIT answers.
#pragma once

#include <hiredis/hiredis.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "core/redis_client.h"
#include "core/redis_reply_limits.h"
#include "core/redis_reply_reader.h"

namespace streamshift {

/// A hiredis reply (NULL: the connection went) as the result a caller sees.
RedisResult redis_result_of(const redisReply* reply);

class RedisCommandQueue {
 public:
  /// A command sent, due by `deadline` (ms on the caller's clock). With
  /// `replicas` > 0 its reply is held for the WAIT pushed after it.
  void push(RedisCallback callback, void* data, uint64_t deadline, uint8_t replicas = 0);
  /// The WAIT closing a batch of durable commands, asking for `replicas`.
  void push_wait(uint8_t replicas, uint64_t deadline);

  /// The reply to the oldest command: answers it (or holds it, durable),
  /// unless it timed out already, and forgets it. NULL when the connection
  /// went. A reply that may be held is passed with its ownership.
  void reply(ReplyPtr reply);
  /// A reply the caller keeps: never for a durable command's (which must
  /// be held), so tests and a lost connection (NULL) only.
  void reply(const redisReply* reply) { answer(reply, nullptr); }

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

  /// Commands sent and not yet replied to, late ones included (a held
  /// command's WAIT is still among them).
  size_t size() const { return commands_.size(); }
  /// Durable commands replied to, waiting for their WAIT.
  size_t held() const { return held_.size(); }
  /// WAITs sent and not yet replied to (late ones included).
  size_t waits() const { return waits_; }
  /// Commands whose callbacks have not run: what a cap on commands in
  /// flight counts.
  size_t outstanding() const { return commands_.size() + held_.size(); }
  size_t late() const { return late_; }
  /// True when no command waits for a reply within its deadline.
  bool none_waiting() const { return late_ == commands_.size(); }

 private:
  struct Command {
    RedisCallback callback;  // null once answered (late), and for a WAIT
    void* data;
    uint64_t deadline;
    uint8_t replicas;  // durable: held for its WAIT; a WAIT: what it asks for
    bool wait;
  };
  struct Held {
    RedisCallback callback;
    void* data;
    uint64_t deadline;
    ReplyPtr reply;
  };
  void answer(const redisReply* reply, ReplyPtr* owned);
  // The WAIT's reply (NULL: the connection went) decides for every held command.
  void release(const redisReply* wait_reply, uint8_t replicas);

  std::deque<Command> commands_;  // oldest first
  size_t late_ = 0;               // the first late_ commands are late
  std::deque<Held> held_;         // replied to, older than every command above
  size_t waits_ = 0;
};

}  // namespace streamshift
