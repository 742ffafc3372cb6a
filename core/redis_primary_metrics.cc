// The Redis primary's metrics; see redis_primary_metrics.h.
#include "core/redis_primary_metrics.h"

#include <prometheus/metric_family.h>

namespace streamshift {

std::vector<prometheus::MetricFamily> RedisPrimaryMetrics::Collect() const {
  RedisPrimaryStatus::View v = status_->view();
  struct Declared {
    const char* name;
    const char* help;
    prometheus::MetricType type;
    double value;
    bool present;
    const std::string* address = nullptr;  // the address label's value
  };
  const Declared declared[] = {
      {"streamshift_redis_failovers_total",
       "Changes of the Redis primary's address seen after the first one (Sentinel failovers)",
       prometheus::MetricType::Counter, static_cast<double>(v.failovers), true},
      {"streamshift_redis_primary_info", "The Redis primary in use (value 1, its address a label)",
       prometheus::MetricType::Gauge, 1, !v.primary.empty(), &v.primary},
      {"streamshift_redis_seconds_without_primary",
       "Seconds since no Redis client of the process had a ready connection (0 while one has)",
       prometheus::MetricType::Gauge, v.seconds_without_primary, true},
  };
  std::vector<prometheus::MetricFamily> out;
  for (const Declared& d : declared) {
    prometheus::MetricFamily f{d.name, d.help, d.type, {}};
    if (d.present) {
      prometheus::ClientMetric m;
      if (d.type == prometheus::MetricType::Counter) {
        m.counter.value = d.value;
      } else {
        m.gauge.value = d.value;
      }
      if (d.address != nullptr) m.label.push_back({"address", sanitize_label_value(*d.address)});
      f.metric.push_back(std::move(m));
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::shared_ptr<RedisPrimaryStatus> attach_redis_primary_status(Registry& registry) {
  auto status = std::make_shared<RedisPrimaryStatus>();
  registry.Attach(std::make_shared<RedisPrimaryMetrics>(status));
  return status;
}

}  // namespace streamshift
