// The event transport's configuration: the EVENT_TRANSPORT_* variables of
// the event transport configuration guide (names and defaults kept exactly),
// plus REDIS_* and the sidecar's own STREAMSHIFT_* transport knobs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/env_config.h"
#include "core/redis_tls.h"
#include "core/redis_url.h"

namespace streamshift {

enum class RolloutKey { kRoom, kRandom };

/// EVENT_COALESCING_*: typing-indicator coalescing (proxy/coalescer.h).
struct CoalescingSettings {
  bool enabled = true;
  uint64_t window_ms = 100;
  uint64_t refresh_ms = 2000;
  size_t max_keys = 100000;
  std::vector<std::string> event_types = {"typing_start", "typing_stop"};

  bool applies_to(std::string_view event_type) const {
    for (const auto& t : event_types) {
      if (t == event_type) return true;
    }
    return false;
  }
};

struct TransportSettings {
  bool use_redis_streams = false;
  int redis_percentage = 0;
  RolloutKey rollout_key = RolloutKey::kRoom;
  bool dual_write = false;
  bool fallback_to_http = true;
  int64_t stream_max_len = 10000;
  /// EVENT_TRANSPORT_STREAM_SHARDS (core/stream_shards.h).
  int stream_shards = 1;
  uint64_t publish_timeout_ms = 100;
  /// EVENT_TRANSPORT_MIN_REPLICAS: an event is acknowledged only once this
  /// many replicas have its entry (XADD + WAIT); 0: once the primary has it.
  int min_replicas = 0;
  int ack_status = 202;
  RedisEndpoint redis;
  /// rediss://: the context every Redis connection (workers, admin) shares.
  std::shared_ptr<const RedisTlsContext> redis_tls;
  int redis_max_connections = 30;
  uint64_t redis_connect_timeout_ms = 1000;
  std::string routes_file;
  int circuit_failures = 5;
  uint64_t circuit_open_ms = 5000;
  CoalescingSettings coalescing;

  /// Redis is needed at all (streams on, or shadow copies).
  bool needs_redis() const { return use_redis_streams || dual_write; }
  /// Connections per worker: REDIS_MAX_CONNECTIONS split over the workers,
  /// at most 4 (commands are pipelined; more connections add little).
  size_t redis_connections_per_worker(int workers) const;
};

TransportSettings load_transport_settings(EnvReader& env);

}  // namespace streamshift
