// Counting the event path; see event_accounting.h.
#include "proxy/event_accounting.h"

namespace streamshift {

EventAccounting::EventAccounting(ProxyMetrics& metrics, int worker)
    : metrics_(metrics),
      stats_(metrics.worker_stats(worker)),
      circuit_gauge_(metrics.circuit_open.Add({{"worker", std::to_string(worker)}})) {}

void EventAccounting::count(Outcome outcome, const EventTypeMetrics* type, double seconds) {
  if (static_cast<size_t>(outcome) >= kTypeOutcomes) {
    stats_.count(outcome);
    return;
  }
  if (type == nullptr) return;
  stats_.count_type(type->slot, outcome);
  if (seconds == kNoLatency) return;
  bool redis = outcome == Outcome::kStored || outcome == Outcome::kXaddFailed;
  (redis ? type->publish_redis : type->publish_http)->Observe(seconds);
}

EventTypeMetrics* EventAccounting::type(std::string_view event_type) {
  auto it = types_.find(event_type);
  if (it != types_.end()) return it->second;
  EventTypeMetrics* m = metrics_.for_event_type(event_type);
  if (types_.size() < 2 * ProxyMetrics::kMaxEventTypes) types_.emplace(std::string(event_type), m);
  return m;
}

void HttpTally::answered(bool ok, double seconds) const {
  if (accounting == nullptr) return;
  accounting->count(ok ? Outcome::kHttpDelivered : Outcome::kHttpFailed, type, seconds);
  if (dual_write)
    accounting->count(ok ? Outcome::kDualWriteHttpDelivered : Outcome::kDualWriteHttpFailed);
}

}  // namespace streamshift
