// The event path's counters as Prometheus sees them: the workers' TransportStats blocks,
// summed at each scrape into the families of the event transport guide (names, help and
// labels as they always were): events_published_total, events_coalesced_total,
// event_transport_fallback_total, dual_write_{success,failure}_total,
// streamshift_events_{refused,invalid,lost}_total, streamshift_coalescer_overflow_total.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/transport_stats.h"

namespace streamshift {

class EventCounts : public prometheus::Collectable {
 public:
  explicit EventCounts(int workers);

  /// Worker `index`'s block; valid for this object's life.
  TransportStats& worker(int index) { return *workers_[static_cast<size_t>(index)]; }

  /// The slot of an event_type label value (already sanitized), added on first use; at
  /// most TransportStats::kTypeSlots distinct values (the caller caps them). Takes a lock:
  /// resolve once, keep the slot.
  size_t slot(std::string_view label);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  uint64_t total(Outcome outcome) const;
  uint64_t total_type(size_t slot, Outcome outcome) const;

  std::vector<std::unique_ptr<TransportStats>> workers_;
  mutable std::mutex mu_;
  std::vector<std::string> labels_;  // by slot
};

}  // namespace streamshift
