// Redis for a one-shot command (`streamshift dlq`): a client made by
// make_redis_client (standalone, Sentinel or Cluster) on a loop of its own,
// used one command at a time. call() runs the loop until the answer is
// there, so the command reads as a sequence; nothing else shares the loop.
//
//   connect(): start, run the loop until a connection is ready or the
//              deadline passes
//   call():    send, run the loop until the callback (the client's
//              timeout bounds it); the reply is copied out
//   ~DlqSession: shutdown, close_now, close the timer, run the loop dry
#pragma once

#include <hiredis/hiredis.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/redis_commands.h"
#include "relay/relay_settings.h"

namespace streamshift {

/// A reply copied out of hiredis's (valid after the callback).
struct OwnedReply {
  int type = REDIS_REPLY_NIL;
  std::string str;  // strings, status and error replies
  long long integer = 0;
  std::vector<OwnedReply> elements;
};

/// One command's outcome: `status` kOk with `value`, or why not (`error`).
struct RedisAnswer {
  RedisStatus status = RedisStatus::kNotConnected;
  std::string error;  // the error reply's text or the status's name
  OwnedReply value;
  bool ok() const { return status == RedisStatus::kOk; }
};

class DlqSession {
 public:
  explicit DlqSession(const RelaySettings& settings);
  ~DlqSession();
  DlqSession(const DlqSession&) = delete;
  DlqSession& operator=(const DlqSession&) = delete;

  /// True once a connection is ready, false after `timeout_ms`.
  bool connect(uint64_t timeout_ms);
  /// Why the client could not connect (for the error message).
  std::string last_error() const;
  /// One command, answered (or failed) before it returns.
  RedisAnswer call(const std::vector<std::string>& args);

 private:
  const RelaySettings& settings_;
  uv_loop_t loop_;
  uv_timer_t deadline_;
  bool deadline_passed_ = false;
  std::unique_ptr<RedisCommands> redis_;
};

}  // namespace streamshift
