// One pipelined hiredis connection of a RedisClient (internal to core).
//
// Its life (State; the flags beside it are separate members):
//
//   start() --host name--> kResolving --resolved--+
//      |                                         v
//      +--numeric host------------------------> kConnecting --TCP up--> kHandshake
//                                                                          | AUTH, then
//                                                                          | SELECT or PING: OK
//                                                                          v
//                                   shutdown(): kDraining <----------- kReady (commands)
//                                   (the replies in flight,
//                                    then hiredis disconnects)
//
//   shutdown() in any other state: close("shutting down") at once (a
//   handshake has nothing of the caller's in flight).
//
//   any state --close(reason)--> kDown: the context freed (commands in
//   flight get kConnectionLost), then
//     - not stopping_: backoff_timer_ (Backoff, jitter) --> start() again
//     - stopping_, and no context nor address look-up left: the timers
//       close, and the last close callback frees the connection and tells
//       the client.
//
// connect_timer_ runs from connect() until kReady; its expiry is
// close("connect timeout"). deadline_timer_ follows the RedisCommandQueue
// (the oldest waiting command's deadline, the oldest late one's grace).
//
// Every teardown goes through close(reason), also when hiredis dropped the
// context itself (on_connect failing, on_disconnect): ac_ is cleared first,
// so close() frees only contexts hiredis still leaves to us. A context given
// up is never ours again: hiredis callbacks about it are ignored.
#pragma once

#include <hiredis/async.h>
#include <uv.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/redis_client.h"
#include "core/redis_command_queue.h"

namespace streamshift {

class RedisConnection {
 public:
  RedisConnection(RedisClient* client, int index);
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  void start();
  bool ready() const { return state_ == State::kReady; }
  /// Sends a command; false with `*refused` set when it was not sent.
  bool send(int argc, const char** argv, const size_t* argvlen, uint64_t timeout_ms,
            RedisCallback callback, void* data, RedisStatus* refused);
  /// No more reconnections; a ready connection lets its replies in flight
  /// come first. The connection frees itself once everything is closed.
  void shutdown();
  /// Closes now: commands in flight get kConnectionLost.
  void close_now() { close("closed now"); }

  /// Handles never closed by us (the loop was closed under a client that
  /// was not shut down): true when the connection may be deleted.
  bool handles_closed() const;

 private:
  enum class State { kDown, kResolving, kConnecting, kHandshake, kReady, kDraining };
  // Every state change goes through here, so readiness is reported once.
  void set_state(State next);

  void resolve();
  void connect();
  void handshake();
  bool issue(int argc, const char** argv, const size_t* argvlen, uint64_t timeout_ms,
             RedisCallback callback, void* data);
  // The one teardown: see above.
  void close(std::string_view reason);
  void schedule_reconnect(std::string_view reason, bool was_ready);
  void arm_deadline_timer();
  void maybe_finish();

  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res);
  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);
  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_handshake_reply(void* data, const RedisResult& result);
  static void on_connect_timeout(uv_timer_t* timer);
  static void on_backoff_done(uv_timer_t* timer);
  static void on_deadline(uv_timer_t* timer);
  static void on_timer_closed(uv_handle_t* handle);

  RedisClient* client_;
  int index_;
  State state_ = State::kDown;
  redisAsyncContext* ac_ = nullptr;
  uv_timer_t connect_timer_;   // connect() until kReady
  uv_timer_t backoff_timer_;   // kDown until the next attempt
  uv_timer_t deadline_timer_;  // the command queue's next due time
  uv_getaddrinfo_t resolve_req_;
  std::string address_;  // numeric
  RedisCommandQueue commands_;
  uint32_t attempt_ = 0;  // failed attempts since the last kReady
  int handshake_left_ = 0;
  int open_timers_ = 3;
  bool stopping_ = false;         // shutdown() asked: no more reconnections
  bool resolve_pending_ = false;  // resolve_req_ is out (its callback comes even if cancelled)
  bool timers_closing_ = false;
};

}  // namespace streamshift
