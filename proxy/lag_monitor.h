// Consumer-lag look-ups for the events API (the consumer-lag monitoring
// document): per stream, XINFO STREAM, XINFO GROUPS and XINFO CONSUMERS,
// pipelined on the admin loop's own Redis connection, cached for
// STREAMSHIFT_ADMIN_CACHE_MS so a burst of requests costs one round.
//
// Redis 7.0 facts handled here: a group's lag can be nil (after XDEL inside
// the unread range, or a group created at an arbitrary id): reported as
// null with a reason, never a made-up number. Trimming at the head never
// shows in lag: when the stream's max-deleted-entry-id is newer than the
// group's last-delivered-id, entries were removed before the group read
// them, which is message loss, reported per stream.
//
// Sharded streams (core/stream_shards.h) are looked up per physical stream
// and reported per logical stream, their shards inside: length and lag
// summed (a lag unknown or failed on one shard is the whole stream's),
// consumers merged, trimmed_unread when any shard's is.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/redis_client_factory.h"
#include "core/stream_lag.h"
#include "core/stream_shards.h"

namespace streamshift {

struct StreamLag {
  std::string name;
  bool failed = false;  // the look-up failed: lag reported as -1
  std::string error;
  std::optional<int64_t> lag;  // nullopt with failed=false: Redis reports nil
  std::string lag_unknown_reason;
  std::vector<std::string> consumers;
  int64_t length = 0;
  int64_t groups = 0;
  bool group_exists = false;
  bool trimmed_unread = false;
  std::string last_delivered_id;
  std::string max_deleted_id;
  /// Sharded: each physical stream's figures (empty when unsharded).
  std::vector<StreamLag> shards;
};

/// The logical streams of `layout` from the figures of its physical ones
/// (layout.physical() order); unsharded, `physical` as it is.
std::vector<StreamLag> sum_shards(const StreamShards& layout, std::vector<StreamLag> physical);

struct LagSnapshot {
  std::vector<StreamLag> streams;
  bool redis_connected = false;
  /// Not connected: why (RedisClient::last_error(), "certificate verify
  /// failed: ..."), or that no attempt has ended yet.
  std::string redis_error;
};

class LagMonitor {
 public:
  using Done = std::function<void(const LagSnapshot&)>;

  LagMonitor(uv_loop_t* loop, RedisOptions redis, StreamShards streams, std::string group,
             uint64_t cache_ms, uint64_t timeout_ms);
  ~LagMonitor();

  /// Connects (look-ups before that report Redis as not connected).
  void start();
  /// Answers from the cache, or after one round of look-ups (callers that
  /// arrive meanwhile share it).
  void get(Done done);
  const std::string& group() const { return group_; }
  /// The admin loop's Redis connection, for the loop's other look-ups
  /// (stream_inspection.h); closed by shutdown().
  RedisCommands& redis() { return *redis_; }
  /// Closes the connection now: look-ups in flight are answered as failed.
  void shutdown(std::function<void()> on_closed);

 private:
  struct Round;
  struct Reply;
  static void on_reply(void* data, const RedisResult& result);
  static RedisOptions with_ready_hook(RedisOptions options, LagMonitor* self);
  void finish(Round* round);
  void start_round();
  void stop_waiting_for_connect();

  uv_loop_t* loop_;
  uint64_t connect_timeout_ms_;  // declared before redis_, which takes the options
  std::unique_ptr<RedisCommands> redis_;
  // Look-ups before the first connect attempt has resolved wait for it.
  uv_timer_t connect_wait_;
  bool waiting_for_connect_ = true;
  std::vector<Done> early_;
  StreamShards layout_;
  const std::vector<std::string>& streams_;  // layout_.physical()
  std::string group_;
  uint64_t cache_ms_;
  uint64_t timeout_ms_;
  std::optional<LagSnapshot> cached_;
  uint64_t cached_at_ = 0;
  Round* in_flight_ = nullptr;
  uint64_t rounds_ = 0;

 public:
  /// Rounds of Redis look-ups done so far (for tests of the cache).
  uint64_t rounds() const { return rounds_; }
};

}  // namespace streamshift
