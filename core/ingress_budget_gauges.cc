// The ingress budgets as gauges; see ingress_budget_gauges.h.
#include "core/ingress_budget_gauges.h"

#include <prometheus/metric_family.h>

namespace streamshift {

std::vector<prometheus::MetricFamily> IngressBudgetGauges::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  auto gauge = [&](const char* name, const char* help, uint64_t value) {
    prometheus::MetricFamily f{
        name, help, prometheus::MetricType::Gauge, {prometheus::ClientMetric{}}};
    f.metric[0].gauge.value = static_cast<double>(value);
    out.push_back(std::move(f));
  };
  gauge("streamshift_ingress_connections", "Open client connections, all workers",
        budgets_.connections.in_use());
  gauge("streamshift_ingress_body_bytes",
        "Request body bytes held by requests in flight, all workers (the body budget in use)",
        budgets_.body_bytes.in_use());
  return out;
}

}  // namespace streamshift
