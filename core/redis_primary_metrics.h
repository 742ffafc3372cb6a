// The process's RedisPrimaryStatus as metrics, read at scrape time (both
// programs' /metrics):
//   streamshift_redis_failovers_total                  counter
//   streamshift_redis_primary_info{address="host:port"} 1 (the current one)
//   streamshift_redis_seconds_without_primary          gauge
//   streamshift_redis_cluster_redirects_total{kind="moved"|"ask"}  counter
//   streamshift_redis_cluster_retries_total            counter
//   streamshift_redis_cluster_topology_refreshes_total counter
#pragma once

#include <prometheus/collectable.h>

#include <memory>
#include <vector>

#include "core/metrics.h"
#include "core/redis_primary_status.h"

namespace streamshift {

class RedisPrimaryMetrics : public prometheus::Collectable {
 public:
  explicit RedisPrimaryMetrics(std::shared_ptr<const RedisPrimaryStatus> status)
      : status_(std::move(status)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::shared_ptr<const RedisPrimaryStatus> status_;
};

/// The process's status (to give every RedisClient), its metrics attached
/// to `registry`.
std::shared_ptr<RedisPrimaryStatus> attach_redis_primary_status(Registry& registry);

}  // namespace streamshift
