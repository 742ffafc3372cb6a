// The Redis primary's metrics; see redis_primary_metrics.h.
#include "core/redis_primary_metrics.h"

#include <prometheus/metric_family.h>

namespace streamshift {

std::vector<prometheus::MetricFamily> RedisPrimaryMetrics::Collect() const {
  RedisPrimaryStatus::View v = status_->view();
  auto cluster = [&v](RedisClusterEvent e) {
    return static_cast<double>(v.cluster_events[static_cast<size_t>(e)]);
  };
  // One sample each; consecutive samples of one name make one family.
  struct Declared {
    const char* name;
    const char* help;
    prometheus::MetricType type;
    double value;
    bool present;
    const char* label = nullptr;  // its one label, if any
    std::string label_value = {};
  };
  const Declared declared[] = {
      {"streamshift_redis_failovers_total",
       "Changes of the Redis primary's address seen after the first one (Sentinel failovers)",
       prometheus::MetricType::Counter, static_cast<double>(v.failovers), true},
      {"streamshift_redis_primary_info", "The Redis primary in use (value 1, its address a label)",
       prometheus::MetricType::Gauge, 1, !v.primary.empty(), "address", v.primary},
      {"streamshift_redis_seconds_without_primary",
       "Seconds since no Redis client of the process had a ready connection (0 while one has)",
       prometheus::MetricType::Gauge, v.seconds_without_primary, true},
      {"streamshift_redis_cluster_redirects_total",
       "Redis Cluster redirects followed (kind: moved, ask)", prometheus::MetricType::Counter,
       cluster(RedisClusterEvent::kMoved), true, "kind", "moved"},
      {"streamshift_redis_cluster_redirects_total", "", prometheus::MetricType::Counter,
       cluster(RedisClusterEvent::kAsk), true, "kind", "ask"},
      {"streamshift_redis_cluster_retries_total",
       "Redis Cluster commands put back to wait and resent (TRYAGAIN, CLUSTERDOWN, a node not "
       "connected)",
       prometheus::MetricType::Counter, cluster(RedisClusterEvent::kRetry), true},
      {"streamshift_redis_cluster_topology_refreshes_total",
       "Redis Cluster slot maps read (CLUSTER SLOTS)", prometheus::MetricType::Counter,
       cluster(RedisClusterEvent::kTopologyRefresh), true},
  };
  std::vector<prometheus::MetricFamily> out;
  for (const Declared& d : declared) {
    if (out.empty() || out.back().name != d.name) out.push_back({d.name, d.help, d.type, {}});
    if (!d.present) continue;
    prometheus::ClientMetric m;
    if (d.type == prometheus::MetricType::Counter) {
      m.counter.value = d.value;
    } else {
      m.gauge.value = d.value;
    }
    if (d.label != nullptr) m.label.push_back({d.label, sanitize_label_value(d.label_value)});
    out.back().metric.push_back(std::move(m));
  }
  return out;
}

std::shared_ptr<RedisPrimaryStatus> attach_redis_primary_status(Registry& registry) {
  auto status = std::make_shared<RedisPrimaryStatus>();
  registry.Attach(std::make_shared<RedisPrimaryMetrics>(status));
  return status;
}

}  // namespace streamshift
