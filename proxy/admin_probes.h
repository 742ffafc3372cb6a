// The sidecar's probes on the admin listener, as pure functions of what
// the workers publish (the caller passes the clock):
//   /healthz  liveness: every worker loop ticked within kStalledAfterMs
//   /readyz   readiness: every worker listens and no drain has begun
//
// Ready means "this sidecar takes requests". Redis is deliberately not part
// of it: a native sidecar's readiness is the app pod's, and a Redis outage
// must never take the app's own endpoints out of its Service. Redis state
// is in /api/v1/events/health, the metrics and the alerts (and, for
// information only, in the readiness body).
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "core/admin_router.h"

namespace streamshift {

/// What the probes read from the workers; written by them, read here.
struct WorkerHealth {
  std::atomic<uint64_t> heartbeat_ms{0};  // uv_hrtime in ms at the last tick
  std::atomic<bool> listening{false};
};

constexpr uint64_t kStalledAfterMs = 5000;

/// 200 {"status":"ok"}, or 503 {"status":"stalled","worker":<index>} for
/// the first worker without a tick in the last kStalledAfterMs.
ProbeAnswer workers_liveness(const std::vector<const WorkerHealth*>& workers, uint64_t now_ms);

/// 200 {"status":"ready","redis_connected":..}, or 503 with "draining" or
/// "not_listening" as the status.
ProbeAnswer sidecar_readiness(const std::vector<const WorkerHealth*>& workers, bool draining,
                              bool redis_connected);

}  // namespace streamshift
