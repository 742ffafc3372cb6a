// Counters of one worker's transport decisions and outcomes. Each worker
// owns its own (no atomics on the hot path); totals are summed after the
// workers stop, and the metrics issue exposes them to Prometheus.
#pragma once

#include <cstdint>
#include <string>

namespace streamshift {

enum class FallbackReason { kRedisError, kTimeout, kConnectionLost, kCircuitOpen, kCount };
std::string_view fallback_reason_name(FallbackReason reason);

struct TransportStats {
  uint64_t redis_published = 0;  // stored in a stream and acknowledged
  uint64_t redis_failed = 0;     // XADD failed (then fallback or 503)
  uint64_t http_routed = 0;      // events the rollout sent over HTTP
  uint64_t fallbacks[static_cast<int>(FallbackReason::kCount)] = {};
  uint64_t refused_503 = 0;  // fallback off and Redis failed
  uint64_t dual_write_success = 0;
  uint64_t dual_write_failure = 0;
  uint64_t bad_events = 0;   // 400 on an event route
  uint64_t passthrough = 0;  // no route matched

  void add(const TransportStats& o);
  /// JSON object text for the shutdown log line.
  std::string to_json() const;
};

}  // namespace streamshift
