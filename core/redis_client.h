// The Redis client of one event loop: a few pipelined connections of our
// own (plaintext or TLS), each with a connect timer, AUTH/SELECT on
// connect, reconnection with exponential backoff and jitter, a cap on
// commands in flight, and a per-command deadline.
//
//   command() --> the current connection --------> batch of this loop turn
//                 (the next one: see command())        | one write per loop turn
//                    |                                 v
//                    | none ready: kNotConnected    replies in FIFO order
//                    | over the cap: kOverloaded       |
//                    v                                 v
//                 callback now           callback(reply) unless timed out
//
// A pipelined command cannot be taken back: when a deadline passes the
// caller is answered kTimeout at once and the late reply, when it comes,
// only frees the command's record. A connection owing too many late
// replies, or one for too long, is dropped and reconnected; replies over
// the bounds of RedisReplyLimits fail the connection too. Modelled on h2o's
// Redis client. A connection's states: redis_connection.h; its commands in
// flight and their deadlines: redis_command_queue.h; its socket (plaintext
// or TLS): redis_socket.h.
//
// Sentinel (an endpoint with sentinels): the client owns a
// RedisSentinelLocator, and each connection asks it where the primary is
// before every attempt (redis_sentinel_locator.h); a +switch-master moves
// the connections at once (primary_moved()). With several `hosts` (the
// locator's own clients, to the Sentinels), each attempt after a failure
// goes to the next host.
#pragma once

#include <hiredis/hiredis.h>
#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/backoff.h"
#include "core/redis_commands.h"
#include "core/redis_primary_status.h"
#include "core/redis_reply_limits.h"
#include "core/redis_tls.h"
#include "core/redis_url.h"

namespace streamshift {

struct RedisOptions {
  std::string name = "redis";  // in log lines: which client this is
  RedisEndpoint endpoint;
  /// Set: every connection speaks TLS with this context (rediss://).
  std::shared_ptr<const RedisTlsContext> tls;
  size_t connections = 1;
  uint64_t connect_timeout_ms = 1000;
  size_t max_in_flight = 4096;   // per connection
  RedisReplyLimits limits = {};  // what one connection may make us hold
  uint64_t backoff_initial_ms = 50;
  uint64_t backoff_max_ms = 5000;  // sentinel mode: at most kSentinelBackoffMaxMs
  /// The connection taking commands hands over to the next this often.
  uint64_t rotate_ms = 1000;
  /// Called with +1 when a connection becomes ready and -1 when it stops
  /// being ready (for a readiness gauge); on the loop's thread.
  std::function<void(int delta)> on_ready_change;
  /// Not empty: the hosts to connect to instead of endpoint.host:port.
  /// Connection i starts at hosts[(r + i) % n], r drawn per client (so the
  /// clients of many processes do not all start at the first host), and
  /// moves to the next host after every failure, a drop of a ready
  /// connection included: never straight back to the host that failed.
  std::vector<RedisHost> hosts;
  /// Set: a pub/sub message (an array whose first element is "message" or
  /// "pmessage") is handed here instead of answering a command. SUBSCRIBE's
  /// own confirmation still answers the SUBSCRIBE (one channel per command).
  std::function<void(const redisReply& message)> on_push;
  /// Set: told of this client's primary and readiness (one per process,
  /// shared by all its clients; see redis_primary_status.h).
  std::shared_ptr<RedisPrimaryStatus> primary_status;
};

/// In sentinel mode a connection retries at most this far apart: each
/// attempt asks the Sentinels afresh, so a promotion whose +switch-master
/// the client missed is found within about a second, not after the
/// standalone backoff's 5 s.
inline constexpr uint64_t kSentinelBackoffMaxMs = 1000;

class RedisConnection;
class RedisSentinelLocator;

class RedisClient final : public RedisCommands {
 public:
  RedisClient(uv_loop_t* loop, RedisOptions options);
  /// After shutdown's on_closed has run (or after the loop was closed).
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  void start() override;
  using RedisCommands::command;
  void command(const RedisCommandArgs& args, uint64_t timeout_ms, RedisCallback callback,
               void* data) override;
  size_t ready_connections() const override;
  const std::string& last_error() const override { return last_error_; }
  uint64_t connects() const override { return connects_; }
  void shutdown(std::function<void()> on_closed) override;
  void close_now() override;

 private:
  friend class RedisConnection;
  // A connection freed itself (in its timers' close callbacks).
  void connection_closed(int index);
  // A part (a connection, the locator) is closed.
  void part_closed();
  // +switch-master: connections elsewhere close, down ones retry now.
  void primary_moved(const RedisHost& primary);
  void advance(uint64_t now);  // the next connection takes commands

  uv_loop_t* loop_;
  RedisOptions options_;
  JitterRandom jitter_;                            // reconnection delays
  size_t first_host_;                              // with several hosts: see RedisOptions::hosts
  std::vector<RedisConnection*> connections_;      // null once closed
  std::unique_ptr<RedisSentinelLocator> locator_;  // sentinel mode only
  size_t current_ = 0;          // the connection that takes commands (see command())
  uint64_t current_since_ = 0;  // since when, on the loop's clock (ms)
  size_t open_parts_ = 0;       // connections, and the locator, not yet closed
  uint64_t connects_ = 0;
  std::string last_error_;
  bool shutting_down_ = false;
  std::vector<std::function<void()>> on_closed_;
};

}  // namespace streamshift
