// The sidecar's /healthz and /readyz answers over a given clock.
#include "proxy/admin_probes.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

TEST(AdminProbes, LiveWhileEveryWorkerTickedWithinTheLimit) {
  WorkerHealth a, b;
  a.heartbeat_ms = 10000;
  b.heartbeat_ms = 10000;
  std::vector<const WorkerHealth*> workers{&a, &b};
  ProbeAnswer live = workers_liveness(workers, 10000 + kStalledAfterMs);
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(live.body, "{\"status\":\"ok\"}");
  ProbeAnswer stalled = workers_liveness(workers, 10001 + kStalledAfterMs);
  EXPECT_EQ(stalled.status, 503);
  EXPECT_EQ(stalled.body, "{\"status\":\"stalled\",\"worker\":0}");
  a.heartbeat_ms = 12000;
  EXPECT_EQ(workers_liveness(workers, 10001 + kStalledAfterMs).body,
            "{\"status\":\"stalled\",\"worker\":1}");
}

TEST(AdminProbes, AWorkerThatNeverTickedIsStalled) {
  WorkerHealth never;
  EXPECT_EQ(workers_liveness({&never}, 1).status, 503);
}

TEST(AdminProbes, ReadyWhenListeningAndNotDrainingWhateverRedisDoes) {
  WorkerHealth a, b;
  a.listening = true;
  b.listening = true;
  std::vector<const WorkerHealth*> workers{&a, &b};
  ProbeAnswer ready = sidecar_readiness(workers, false, false);
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "{\"status\":\"ready\",\"redis_connected\":false}");
  EXPECT_EQ(sidecar_readiness(workers, false, true).body,
            "{\"status\":\"ready\",\"redis_connected\":true}");
  b.listening = false;
  ProbeAnswer not_listening = sidecar_readiness(workers, false, true);
  EXPECT_EQ(not_listening.status, 503);
  EXPECT_EQ(not_listening.body, "{\"status\":\"not_listening\",\"redis_connected\":true}");
  ProbeAnswer draining = sidecar_readiness(workers, true, true);
  EXPECT_EQ(draining.status, 503);
  EXPECT_EQ(draining.body, "{\"status\":\"draining\",\"redis_connected\":true}");
}

}  // namespace
}  // namespace streamshift
