// The sidecar's metric set; see proxy_metrics.h.
#include "proxy/proxy_metrics.h"

#include "core/process_metrics.h"
#include "core/redis_primary_metrics.h"

namespace streamshift {
namespace {
constexpr const char* kClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx", "error"};
}

ProxyMetrics::ProxyMetrics(Registry& r, const TransportSettings& t, int workers)
    : registry(r),
      publish_duration(r.AddHistogram(
          "event_publish_duration_seconds",
          "Time to publish an event to its transport (XADD reply, or the upstream's answer)")),
      delivery_duration(r.AddHistogram(
          "event_delivery_duration_seconds",
          "End-to-end latency from ingress to delivery to SignalR (observed by the relay)")),
      dual_write_status(
          r.AddGauge("event_dual_write_status", "1 when dual write is on, else 0").Add({})),
      redis_connections_ready(
          r.AddGauge("streamshift_redis_connections_ready", "Redis connections ready, all workers")
              .Add({})),
      circuit_open(
          r.AddGauge("streamshift_redis_circuit_open", "1 while a worker's Redis circuit is open")),
      rollout_percentage(r.AddGauge("streamshift_rollout_redis_percentage",
                                    "EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE in force (0 when the "
                                    "master switch is off)")
                             .Add({})),
      rollout_info(
          r.AddGauge("streamshift_rollout_info", "The transport settings in force (value 1)")),
      draining(
          r.AddGauge("streamshift_draining", "1 while the sidecar drains after SIGTERM").Add({})),
      redis_primary(attach_redis_primary_status(r)),
      counts_(std::make_shared<EventCounts>(workers)) {
  r.Attach(counts_);
  show_rollout(t);
  auto& ingress = r.AddCounter("streamshift_http_requests_total",
                               "Requests answered by the ingress, by status class");
  auto& ingress_latency = r.AddHistogram("streamshift_http_request_duration_seconds",
                                         "Ingress latency: request received to answer queued");
  for (int c = 0; c < 5; ++c) {
    ingress_requests_[c] = &ingress.Add({{"code", kClasses[c]}});
    ingress_duration_[c] = &ingress_latency.Add({{"code", kClasses[c]}});
  }
  auto& upstream =
      r.AddCounter("streamshift_upstream_requests_total",
                   "Requests sent to the upstream (HTTP bridge), by status class or error");
  for (int c = 0; c < 6; ++c) upstream_requests_[c] = &upstream.Add({{"code", kClasses[c]}});
  upstream_duration_ = &r.AddHistogram("streamshift_upstream_request_duration_seconds",
                                       "Upstream latency: request sent to complete answer")
                            .Add({});
  for (int w = 0; w < workers; ++w) circuit_open.Add({{"worker", std::to_string(w)}}).Set(0);
  auto& refused = r.AddCounter("streamshift_connections_refused_total",
                               "Client connections closed as soon as they came, by reason");
  for (int i = 0; i < static_cast<int>(Refusal::kCount); ++i)
    refused_[i] = &refused.Add({{"reason", std::string(refusal_name(static_cast<Refusal>(i)))}});
  add_build_info(r, "proxy");
  add_redis_tls_verify(r, t.redis_tls.get());
  r.Attach(std::make_shared<ProcessMetrics>());
}

EventTypeMetrics* ProxyMetrics::for_event_type(std::string_view event_type) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string key(event_type);
  auto it = event_types_.find(key);
  if (it != event_types_.end()) return &it->second;
  if (event_types_.size() >= kMaxEventTypes) {
    key = "other";
    it = event_types_.find(key);
    if (it != event_types_.end()) return &it->second;
  }
  EventTypeMetrics m;
  m.slot = counts_->slot(sanitize_label_value(key));
  m.publish_http = &publish_duration.Add({{"transport", "http"}, {"event_type", key}});
  m.publish_redis = &publish_duration.Add({{"transport", "redis_streams"}, {"event_type", key}});
  return &event_types_.emplace(key, m).first->second;
}

void ProxyMetrics::show_rollout(const TransportSettings& t) {
  dual_write_status.Set(t.dual_write ? 1 : 0);
  rollout_percentage.Set(t.use_redis_streams ? t.redis_percentage : 0);
  Labels now{{"use_redis_streams", t.use_redis_streams ? "true" : "false"},
             {"rollout_key", t.rollout_key == RolloutKey::kRoom ? "room" : "random"},
             {"fallback_to_http", t.fallback_to_http ? "true" : "false"},
             {"dual_write", t.dual_write ? "true" : "false"}};
  if (now == rollout_info_labels_) return;
  if (!rollout_info_labels_.empty()) set_gauge_or_remove(rollout_info, rollout_info_labels_, {});
  set_gauge_or_remove(rollout_info, now, 1);
  rollout_info_labels_ = std::move(now);
}

void ProxyMetrics::observe_ingress(int status, double seconds) {
  int c = status_class(status);
  ingress_requests_[c]->Increment();
  ingress_duration_[c]->Observe(seconds);
}

void ProxyMetrics::observe_upstream(int status, double seconds) {
  upstream_requests_[status == 0 ? 5 : status_class(status)]->Increment();
  upstream_duration_->Observe(seconds);
}

}  // namespace streamshift
