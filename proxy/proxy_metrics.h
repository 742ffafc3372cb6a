// The sidecar's metrics: the names and labels of the event transport guide
// and the consumer-lag document, kept exactly, plus the sidecar's own
// (ingress, upstream, Redis connections, circuit, rollout in force).
// Created once at start; workers resolve label sets once and keep pointers.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/http_server.h"
#include "core/metrics.h"
#include "proxy/transport_settings.h"
#include "proxy/transport_stats.h"

namespace streamshift {

/// Counters and histograms of one event_type, both transports.
struct EventTypeMetrics {
  Histogram* publish_http = nullptr;
  Histogram* publish_redis = nullptr;
  Counter* http_success = nullptr;
  Counter* http_failure = nullptr;
  Counter* redis_success = nullptr;
  Counter* redis_failure = nullptr;
  Counter* coalesced = nullptr;
};

/// Why an acknowledged (202 coalesced) event never reached SignalR.
enum class LostReason { kRedisFailed, kHttpFailed, kCount };
std::string_view lost_reason_name(LostReason reason);

class ProxyMetrics : public RequestObserver {
 public:
  ProxyMetrics(Registry& registry, const TransportSettings& transport, int workers);

  /// Distinct event_type label values are capped; beyond the cap, "other".
  static constexpr size_t kMaxEventTypes = 64;
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
  Counter& lost(LostReason reason) { return *lost_[static_cast<int>(reason)]; }

  Registry& registry;
  Family<Histogram>& publish_duration;
  Family<Counter>& published;
  Family<Histogram>& delivery_duration;
  Family<Counter>& coalesced;
  std::array<Counter*, static_cast<int>(FallbackReason::kCount)> fallback;
  Gauge& dual_write_status;
  Counter* dual_write_success_redis;
  Counter* dual_write_failure_redis;
  Counter* dual_write_success_http;
  Counter* dual_write_failure_http;
  Counter& refused_503;
  Counter& bad_events;
  Gauge& redis_connections_ready;
  Family<Gauge>& circuit_open;
  Gauge& rollout_percentage;
  Gauge& draining;
  Counter& coalescer_overflow;

 private:
  std::array<Counter*, 5> ingress_requests_;
  std::array<Histogram*, 5> ingress_duration_;
  std::array<Counter*, 6> upstream_requests_;  // 1xx..5xx, error
  Histogram* upstream_duration_;
  std::array<Counter*, static_cast<int>(LostReason::kCount)> lost_;
  std::array<Counter*, static_cast<int>(Refusal::kCount)> refused_;
  std::mutex mu_;
  std::unordered_map<std::string, EventTypeMetrics> event_types_;
};

}  // namespace streamshift
