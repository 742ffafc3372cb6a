// The one place the event path counts. Every outcome (proxy/transport_stats.h) goes
// through count(), which adds it once to this worker's TransportStats, the only home of
// that count, and observes the publish latency where there is one. One per worker.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "proxy/proxy_metrics.h"
#include "proxy/transport_stats.h"

namespace streamshift {

class EventAccounting {
 public:
  EventAccounting(ProxyMetrics& metrics, int worker);
  EventAccounting(const EventAccounting&) = delete;
  EventAccounting& operator=(const EventAccounting&) = delete;

  static constexpr double kNoLatency = -1;
  /// Counts `outcome`; per-type outcomes need the event's `type` (none: not counted).
  /// `seconds`, for a publish's outcome, is its latency.
  void count(Outcome outcome, const EventTypeMetrics* type = nullptr, double seconds = kNoLatency);

  /// The series of `event_type`, from this worker's cache (no lock once seen).
  EventTypeMetrics* type(std::string_view event_type);
  /// streamshift_redis_circuit_open{worker}.
  void circuit_open(bool open) { circuit_gauge_.Set(open ? 1 : 0); }

  const TransportStats& stats() const { return stats_; }

 private:
  struct TransparentHash : std::hash<std::string_view> {
    using is_transparent = void;
  };
  ProxyMetrics& metrics_;
  TransportStats& stats_;
  Gauge& circuit_gauge_;
  std::unordered_map<std::string, EventTypeMetrics*, TransparentHash, std::equal_to<>> types_;
};

/// What the upstream's answer to a request counts toward; the HTTP bridge calls
/// answered() once per answer (or failure).
struct HttpTally {
  EventAccounting* accounting = nullptr;  // null: not an event, nothing to count
  const EventTypeMetrics* type = nullptr;
  bool dual_write = false;  // the HTTP half of a dual write

  void answered(bool ok, double seconds) const;
};

}  // namespace streamshift
