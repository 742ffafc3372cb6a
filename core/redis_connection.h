// One pipelined connection of a RedisClient (internal to core): commands
// out through a RespWriter, replies in through a RedisReplyReader, matched
// to the RedisCommandQueue in order, over one RedisSocket (plaintext or
// TLS) per attempt.
//
// Its life (State; the flags beside it are separate members):
//
//   start() --sentinel mode--> kLocating --the locator names host:port--+
//      |                       (RedisSentinelLocator)                   |
//      +--the host (with several: hosts[host_ % n], see RedisOptions)---+
//                                                                       v
//            kResolving <--host name-- (connect_to) --numeric host--> kConnecting --TCP up--+
//                |                                                      ^                   |
//                +--resolved--------------------------------------------+  TLS: kTlsHandshake
//                                                                                           v
//                                                                                     kHandshake
//                                                          AUTH, then SELECT or PING, |
//                                   then in sentinel mode ROLE (not "master": close)  | OK
//                                                                                     v
//                       shutdown(): kDraining <--------------------------------- kReady (commands)
//                       (the replies in flight, then close)
//
//   shutdown() in any other state: close("shutting down") at once (a
//   handshake has nothing of the caller's in flight).
//
//   any state --close(reason)--> kDown: the socket closed (it frees
//   itself), the batch not yet written dropped, commands in flight
//   answered kConnectionLost, then
//     - not stopping_: backoff_timer_ (Backoff, jitter) --> start() again
//     - stopping_, and no socket nor address look-up left: the handles
//       close, and the last close callback frees the connection and tells
//       the client.
//
// Writing: issue() appends to the batch and arms flush_check_ (with
// flush_idle_, so that the loop does not block first); the check callback,
// right after the loop's I/O callbacks, hands the whole batch to the socket:
// the commands of one loop turn leave in one write. A batch holding durable
// commands ends with one WAIT for them all (redis_command_queue.h), its
// timeout set to end before the earliest of their deadlines (Redis checks
// it on its clock tick, up to 100 ms late: a held command past its deadline
// is answered kNotReplicated). While a WAIT is out the batch is held back
// (Redis would not read it before the WAIT ends): it leaves, with its own
// WAIT, when the WAIT is answered, or at a deadline.
//
// A command sent `asking` (an ASK redirect) is preceded, in the same batch,
// by ASKING, whose reply is dropped (a no-op callback in the queue).
//
// connect_timer_ runs from kLocating (or connect()) until kReady; its
// expiry is close("connect timeout: no primary from the sentinels ..."),
// close("connect timeout") or close("handshake timeout") (TLS).
// deadline_timer_ follows the RedisCommandQueue (the oldest waiting
// command's deadline, the oldest late one's grace).
//
// primary_moved() (+switch-master): a connection to another address closes
// ("primary moved"), and a down one starts again at once, without waiting
// for its backoff.
#pragma once

#include <uv.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/redis_client.h"
#include "core/redis_command_queue.h"
#include "core/redis_reply_reader.h"
#include "core/redis_sentinel_locator.h"
#include "core/redis_socket.h"
#include "core/resp_writer.h"

namespace streamshift {

class RedisConnection final : private RedisSocket::Owner, private RedisSentinelLocator::Waiter {
 public:
  RedisConnection(RedisClient* client, int index);
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  void start();
  bool ready() const { return state_ == State::kReady; }
  /// Owes a reply past its deadline: stalled, or Redis is.
  bool behind() const { return commands_.late() > 0; }
  /// Sends a command; false with `*refused` set when it was not sent.
  bool send(const RedisCommandArgs& args, uint64_t timeout_ms, RedisCallback callback, void* data,
            RedisStatus* refused);
  /// No more reconnections; a ready connection lets its replies in flight
  /// come first. The connection frees itself once everything is closed.
  void shutdown();
  /// Closes now: commands in flight get kConnectionLost.
  void close_now() { close("closed now"); }
  /// The Sentinels announced a new primary (see above).
  void primary_moved(const RedisHost& primary);

  /// Handles never closed by us (the loop was closed under a client that
  /// was not shut down): true when the connection may be deleted.
  bool handles_closed();

 private:
  enum class State {
    kDown,
    kLocating,
    kResolving,
    kConnecting,
    kTlsHandshake,
    kHandshake,
    kReady,
    kDraining
  };
  // Every state change goes through here, so readiness is reported once.
  void set_state(State next);

  void connect_to(const RedisHost& target);
  void resolve();
  void connect();
  void handshake();
  void issue(const RedisCommandArgs& args, uint64_t timeout_ms, RedisCallback callback, void* data);
  void schedule_flush();
  void flush();       // at the end of a loop turn: send_batch(), unless a WAIT is out
  void send_batch();  // now
  void append_wait();
  // The one teardown: see above.
  void close(std::string_view reason);
  void schedule_reconnect(std::string_view reason, bool was_ready);
  void arm_deadline_timer();
  void maybe_finish();
  std::array<uv_handle_t*, 5> handles();

  // RedisSocket::Owner
  void on_connected() override;
  void on_open() override;
  bool on_bytes(const char* data, size_t len) override;
  void on_failed(std::string reason) override;

  // RedisSentinelLocator::Waiter
  void located(const RedisHost& primary) override;
  void not_located(std::string_view reason) override;

  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res);
  static void on_handshake_reply(void* data, const RedisResult& result);
  static void on_role_reply(void* data, const RedisResult& result);
  static void on_connect_timeout(uv_timer_t* timer);
  static void on_backoff_done(uv_timer_t* timer);
  static void on_deadline(uv_timer_t* timer);
  static void on_flush_check(uv_check_t* check);
  static void on_handle_closed(uv_handle_t* handle);

  RedisClient* client_;
  int index_;
  State state_ = State::kDown;
  RedisSocket* socket_ = nullptr;              // this attempt's; frees itself once closed
  std::unique_ptr<RedisReplyReader> replies_;  // this attempt's
  RespWriter batch_;                           // commands of this loop turn
  uint8_t batch_replicas_ = 0;                 // its durable commands: the most replicas asked
  uint64_t batch_first_due_ = 0;               //   ... the earliest deadline
  uint64_t batch_last_due_ = 0;                //   ... the latest deadline
  uv_timer_t connect_timer_;                   // connect() until kReady
  uv_timer_t backoff_timer_;                   // kDown until the next attempt
  uv_timer_t deadline_timer_;                  // the command queue's next due time
  uv_idle_t flush_idle_;                       // with a batch: the loop does not block
  uv_check_t flush_check_;                     // with a batch: flush() after the I/O callbacks
  uv_getaddrinfo_t resolve_req_;
  RedisHost target_;     // this attempt's host (a name or an address) and port
  std::string address_;  // numeric
  RedisCommandQueue commands_;
  uint32_t attempt_ = 0;  // failed attempts since the last kReady (the backoff's)
  size_t host_;           // with several hosts: hosts[host_ % n] is tried next
  int handshake_left_ = 0;
  int open_handles_ = 5;
  bool stopping_ = false;         // shutdown() asked: no more reconnections
  bool resolve_pending_ = false;  // resolve_req_ is out (its callback comes even if cancelled)
  bool handles_closing_ = false;
};

}  // namespace streamshift
