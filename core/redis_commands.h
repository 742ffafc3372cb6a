// What the programs ask of Redis, whatever Redis is: one interface with
// an Impl per deployment (RedisClient for a standalone server or a
// Sentinel-watched primary; a cluster client routing by key slot). The
// vocabulary of a command's outcome lives here, once.
#pragma once

#include <hiredis/hiredis.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace streamshift {

enum class RedisStatus {
  kOk,
  kErrorReply,      // Redis answered with an error (reply holds it)
  kTimeout,         // no reply within the command's deadline
  kConnectionLost,  // the connection dropped with the command in flight
  kNotConnected,    // no connection is ready
  kOverloaded,      // too many commands in flight
  kNotReplicated,   // durable: fewer replicas than asked had it in time (reply
                    // holds the command's own reply; error says how many)
};
std::string_view redis_status_name(RedisStatus status);

struct RedisResult {
  RedisStatus status = RedisStatus::kOk;
  const redisReply* reply = nullptr;  // valid during the callback only
  std::string_view error;             // for kErrorReply
};

/// Called exactly once per command.
using RedisCallback = void (*)(void* data, const RedisResult& result);

/// One command's arguments. Bit i of `borrowed` set: argv[i] is
/// referenced, not copied (an event's body in its request's buffer); it
/// must stay valid until the command's callback runs. Every other argument
/// is copied before command() returns. `replicas` > 0: a durable write,
/// answered kOk only once that many replicas have it (a WAIT follows the
/// loop turn's batch; see redis_command_queue.h), kNotReplicated otherwise.
/// `asking` (Redis Cluster, after an ASK redirect): ASKING is written right
/// before the command on the same connection and its reply dropped.
struct RedisCommandArgs {
  int argc;
  const char* const* argv;
  const size_t* lens;
  uint64_t borrowed = 0;
  uint8_t replicas = 0;
  bool asking = false;
};

class RedisCommands {
 public:
  virtual ~RedisCommands() = default;

  /// Starts connecting.
  virtual void start() = 0;

  /// Sends a command (see RedisCommandArgs for what is copied).
  /// `callback` may run before command() returns (kNotConnected, kOverloaded).
  virtual void command(const RedisCommandArgs& args, uint64_t timeout_ms, RedisCallback callback,
                       void* data) = 0;
  void command(int argc, const char** argv, const size_t* argvlen, uint64_t timeout_ms,
               RedisCallback callback, void* data) {
    command(RedisCommandArgs{argc, argv, argvlen}, timeout_ms, callback, data);
  }

  virtual size_t ready_connections() const = 0;
  /// Why the last connection failed or was lost ("connect timeout",
  /// "certificate verify failed: ...", for logs and health); empty once a
  /// connection is ready again.
  virtual const std::string& last_error() const = 0;
  /// Connections established (including re-connections) so far.
  virtual uint64_t connects() const = 0;

  /// Graceful: lets commands in flight finish, then disconnects.
  /// `on_closed` runs when every connection and timer is closed; a later
  /// call (also after close_now) adds its callback, or runs it at once when
  /// everything is closed already.
  virtual void shutdown(std::function<void()> on_closed) = 0;
  /// Hard stop (after a drain timeout): commands in flight fail now.
  virtual void close_now() = 0;
};

}  // namespace streamshift
