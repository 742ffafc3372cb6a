// Where the Redis primary is, as every Redis client of the process sees it,
// for health and metrics: one per process (shared_ptr in RedisOptions),
// told by the clients on their loops and read by the admin threads, so a
// mutex guards it (it is told on a connection's state changes, never per
// command).
//
//   primary_at(a)   a connection is ready on `a` (or the Sentinels named
//                   `a`); a new address after the first one is a failover,
//                   counted once however many clients report it.
//   ready_change(d) +1 / -1 as a connection becomes / stops being ready;
//                   the time without a primary runs while the process has
//                   none ready, from the first client's start().
//   cluster_event   a Redis Cluster client followed a MOVED or an ASK,
//                   put a command back to wait (TRYAGAIN, CLUSTERDOWN, a
//                   lost node), or read the slot map again.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace streamshift {

enum class RedisClusterEvent { kMoved, kAsk, kRetry, kTopologyRefresh };
inline constexpr size_t kRedisClusterEvents = 4;

class RedisPrimaryStatus {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  explicit RedisPrimaryStatus(Clock clock = std::chrono::steady_clock::now)
      : clock_(std::move(clock)) {}

  /// A client started: from now on the time without a primary is counted.
  void watching();
  void primary_at(const std::string& address);
  void ready_change(int delta);
  void cluster_event(RedisClusterEvent event);

  struct View {
    std::string primary;  // "host:port"; empty until one was found
    uint64_t failovers = 0;
    double seconds_without_primary = 0;
    uint64_t cluster_events[kRedisClusterEvents] = {};  // by RedisClusterEvent
  };
  View view() const;

 private:
  Clock clock_;
  mutable std::mutex mutex_;
  std::string primary_;
  uint64_t failovers_ = 0;
  uint64_t cluster_events_[kRedisClusterEvents] = {};
  int64_t ready_ = 0;
  bool watching_ = false;
  std::chrono::steady_clock::time_point without_since_{};
};

}  // namespace streamshift
