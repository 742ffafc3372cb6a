// The workers' counts as Prometheus families; see event_counts.h.
#include "proxy/event_counts.h"

#include <utility>

namespace streamshift {
namespace {

using Label = prometheus::ClientMetric::Label;

prometheus::MetricFamily counter_family(std::string name, std::string help) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = prometheus::MetricType::Counter;
  return f;
}

// `labels` in name order, as the registry's own families write them.
void sample(prometheus::MetricFamily& f, std::vector<Label> labels, uint64_t value) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  m.counter.value = static_cast<double>(value);
  f.metric.push_back(std::move(m));
}

}  // namespace

EventCounts::EventCounts(int workers) {
  for (int i = 0; i < workers; ++i) workers_.push_back(std::make_unique<TransportStats>());
}

size_t EventCounts::slot(std::string_view label) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < labels_.size(); ++i) {
    if (labels_[i] == label) return i;
  }
  labels_.emplace_back(label);
  return labels_.size() - 1;
}

uint64_t EventCounts::total(Outcome outcome) const {
  uint64_t sum = 0;
  for (const auto& w : workers_) sum += w->get(outcome);
  return sum;
}

uint64_t EventCounts::total_type(size_t slot, Outcome outcome) const {
  uint64_t sum = 0;
  for (const auto& w : workers_) sum += w->get_type(slot, outcome);
  return sum;
}

std::vector<prometheus::MetricFamily> EventCounts::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  auto published = counter_family("events_published_total",
                                  "Events published, by transport, event type and outcome");
  auto coalesced = counter_family("events_coalesced_total",
                                  "Events dropped by coalescing (merged into a later one)");
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t s = 0; s < labels_.size(); ++s) {
      const std::string& type = labels_[s];
      auto by = [&](const char* status, const char* transport, uint64_t value) {
        sample(published, {{"event_type", type}, {"status", status}, {"transport", transport}},
               value);
      };
      by("success", "http", total_type(s, Outcome::kHttpDelivered));
      by("failure", "http", total_type(s, Outcome::kHttpFailed));
      by("success", "redis_streams", total_type(s, Outcome::kStored));
      by("failure", "redis_streams",
         total_type(s, Outcome::kXaddFailed) + total_type(s, Outcome::kCircuitRejected));
      sample(coalesced, {{"event_type", type}}, total_type(s, Outcome::kCoalesced));
    }
  }
  out.push_back(std::move(published));
  out.push_back(std::move(coalesced));

  auto fallback =
      counter_family("event_transport_fallback_total", "Events that fell back to HTTP, by reason");
  for (int i = 0; i < static_cast<int>(FallbackReason::kCount); ++i) {
    auto reason = static_cast<FallbackReason>(i);
    sample(fallback, {{"reason", std::string(fallback_reason_name(reason))}},
           total(fallback_outcome(reason)));
  }
  out.push_back(std::move(fallback));

  auto dual_write = [&](std::string name, std::string help, Outcome redis, Outcome http) {
    auto f = counter_family(std::move(name), std::move(help));
    sample(f, {{"transport", "redis_streams"}}, total(redis));
    sample(f, {{"transport", "http"}}, total(http));
    out.push_back(std::move(f));
  };
  dual_write("dual_write_success_total", "Dual-write copies that succeeded, by transport",
             Outcome::kShadowStored, Outcome::kDualWriteHttpDelivered);
  dual_write("dual_write_failure_total", "Dual-write copies that failed, by transport",
             Outcome::kShadowFailed, Outcome::kDualWriteHttpFailed);

  auto single = [&](std::string name, std::string help, Outcome outcome) {
    auto f = counter_family(std::move(name), std::move(help));
    sample(f, {}, total(outcome));
    out.push_back(std::move(f));
  };
  single("streamshift_events_refused_total",
         "Events answered 503 because Redis failed and HTTP fallback is off", Outcome::kRefused);
  single("streamshift_events_invalid_total", "Event requests refused with 400 (bad body)",
         Outcome::kInvalid);
  single("streamshift_coalescer_overflow_total",
         "Events passed through uncoalesced because the key cap was reached",
         Outcome::kCoalescerOverflow);

  auto lost = counter_family("streamshift_events_lost_total",
                             "Events acknowledged to the app (202 coalesced) that never reached "
                             "SignalR, by reason");
  for (int i = 0; i < static_cast<int>(LostReason::kCount); ++i) {
    auto reason = static_cast<LostReason>(i);
    sample(lost, {{"reason", std::string(lost_reason_name(reason))}}, total(lost_outcome(reason)));
  }
  out.push_back(std::move(lost));
  return out;
}

}  // namespace streamshift
