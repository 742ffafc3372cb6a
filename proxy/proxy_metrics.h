// The sidecar's metrics: the names and labels of the event transport guide
// and the consumer-lag document, kept exactly, plus the sidecar's own
// (ingress, upstream, Redis connections, circuit, rollout in force).
// Created once at start; workers resolve label sets once and keep pointers. The event
// path's counts live in EventCounts (proxy/event_counts.h), one block per worker.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/http_server.h"
#include "core/metrics.h"
#include "core/redis_primary_status.h"
#include "proxy/event_counts.h"
#include "proxy/transport_settings.h"
#include "proxy/transport_stats.h"

namespace streamshift {

/// One event_type's series: its counts' slot in the workers' blocks, and its latencies.
struct EventTypeMetrics {
  size_t slot = 0;
  Histogram* publish_http = nullptr;
  Histogram* publish_redis = nullptr;
};

class ProxyMetrics : public RequestObserver {
 public:
  ProxyMetrics(Registry& registry, const TransportSettings& transport, int workers);

  /// Distinct event_type label values are capped; beyond the cap, "other".
  static constexpr size_t kMaxEventTypes = TransportStats::kMaxEventTypes;
  EventTypeMetrics* for_event_type(std::string_view event_type);

  /// Status class index: 1xx..5xx -> 0..4.
  static int status_class(int status) {
    return status >= 100 && status < 600 ? status / 100 - 1 : 4;
  }
  void observe_ingress(int status, double seconds);
  void on_response(int status, double seconds) override { observe_ingress(status, seconds); }
  void on_refused(Refusal why) override { refused_[static_cast<int>(why)]->Increment(); }
  /// `status` 0 means the upstream could not be reached or answered nothing.
  void observe_upstream(int status, double seconds);
  /// The rollout gauges (percentage, dual write, streamshift_rollout_info) for the
  /// settings in force: at start, and after each runtime change (issue 19).
  void show_rollout(const TransportSettings& transport);
  /// Worker `index`'s counts.
  TransportStats& worker_stats(int index) { return counts_->worker(index); }

  Registry& registry;
  Family<Histogram>& publish_duration;
  Family<Histogram>& delivery_duration;
  Gauge& dual_write_status;
  Gauge& redis_connections_ready;
  Family<Gauge>& circuit_open;
  Gauge& rollout_percentage;
  Family<Gauge>& rollout_info;
  Gauge& draining;
  /// Given to every RedisClient of the process (health and metrics).
  std::shared_ptr<RedisPrimaryStatus> redis_primary;

 private:
  std::array<Counter*, 5> ingress_requests_;
  std::array<Histogram*, 5> ingress_duration_;
  std::array<Counter*, 6> upstream_requests_;  // 1xx..5xx, error
  Histogram* upstream_duration_;
  std::shared_ptr<EventCounts> counts_;
  Labels rollout_info_labels_;  // the series showing the settings in force
  std::array<Counter*, static_cast<int>(Refusal::kCount)> refused_;
  std::mutex mu_;
  std::unordered_map<std::string, EventTypeMetrics> event_types_;
};

}  // namespace streamshift
