// What the relay's parts ask of Redis, behind one small interface so each
// part is unit-tested against a fake (tests/relay/relay_fakes.h). The
// Impl holds clients made by make_redis_client: one reading connection per
// read group (RelaySettings::read_groups(): one blocking XREADGROUP each,
// over streams sharing a slot), and one that carries everything else,
// pipelined.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/redis_client_factory.h"
#include "relay/relay_metrics.h"
#include "relay/relay_settings.h"

namespace streamshift {

using RedisArgs = std::vector<std::string>;
/// Runs exactly once per command, maybe before the call returns.
using RedisDone = std::function<void(const RedisResult&)>;

/// NOGROUP as Redis's own reply, or inside a script's error ("ERR ... NOGROUP ...").
bool is_nogroup(const RedisResult& r);
/// A command that may have run in Redis although its reply never came.
bool may_have_run(const RedisResult& r);
/// The error reply's text, or the status's name, for log lines.
std::string describe(const RedisResult& r);

class RelayRedis {
 public:
  struct Hooks {
    std::function<void()> reader_ready;    // a reading connection (re)connected
    std::function<void()> commands_ready;  // the commands connection (re)connected
  };

  virtual ~RelayRedis() = default;
  /// Starts connecting every connection.
  virtual void start(Hooks hooks) = 0;
  /// On the commands connection, with the Redis timeout as its deadline.
  virtual void command(const RedisArgs& args, RedisDone done) = 0;
  /// On read group `group`'s connection, with its own deadline (a blocking read's).
  virtual void read(size_t group, const RedisArgs& args, RedisDone done, uint64_t timeout_ms) = 0;
  virtual bool reader_ready(size_t group) const = 0;
  /// Every reading connection is up.
  virtual bool readers_ready() const = 0;
  virtual bool commands_ready() const = 0;
  /// Cuts every reading connection now (a blocked read fails at once);
  /// `on_closed` once all are closed.
  virtual void close_readers(std::function<void()> on_closed) = 0;
  /// Closes the commands connection now: commands in flight fail.
  virtual void close_commands(std::function<void()> on_closed) = 0;
};

class RelayRedisImpl final : public RelayRedis {
 public:
  RelayRedisImpl(uv_loop_t* loop, const RelaySettings& settings, RelayMetrics& metrics);

  void start(Hooks hooks) override;
  void command(const RedisArgs& args, RedisDone done) override;
  void read(size_t group, const RedisArgs& args, RedisDone done, uint64_t timeout_ms) override;
  bool reader_ready(size_t group) const override {
    return readers_[group]->ready_connections() > 0;
  }
  bool readers_ready() const override;
  bool commands_ready() const override { return commands_->ready_connections() > 0; }
  void close_readers(std::function<void()> on_closed) override;
  void close_commands(std::function<void()> on_closed) override;

 private:
  RedisOptions options(std::string name, std::function<void()> RelayRedis::Hooks::*hook);
  void send(RedisCommands& client, const RedisArgs& args, RedisDone done, uint64_t timeout_ms);

  const RelaySettings& settings_;
  RelayMetrics& metrics_;
  Hooks hooks_;
  std::vector<std::unique_ptr<RedisCommands>> readers_;  // per read group: XREADGROUP only
  std::unique_ptr<RedisCommands> commands_;              // everything else, pipelined
};

}  // namespace streamshift
