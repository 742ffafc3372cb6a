// The relay's metrics; see relay_metrics.h.
#include "relay/relay_metrics.h"

#include "core/process_metrics.h"
#include "core/redis_primary_metrics.h"

namespace streamshift {

std::string_view dead_letter_reason_name(DeadLetterReason reason) {
  switch (reason) {
    case DeadLetterReason::kPermanentStatus:
      return "permanent_status";
    case DeadLetterReason::kMaxDeliveries:
      return "max_deliveries";
    case DeadLetterReason::kMalformed:
    case DeadLetterReason::kCount:
      break;
  }
  return "malformed";
}

std::optional<DeadLetterReason> parse_dead_letter_reason(std::string_view name) {
  for (int i = 0; i < static_cast<int>(DeadLetterReason::kCount); ++i) {
    auto reason = static_cast<DeadLetterReason>(i);
    if (dead_letter_reason_name(reason) == name) return reason;
  }
  return std::nullopt;
}

RelayMetrics::RelayMetrics(Registry& r, const RedisTlsContext* redis_tls)
    : registry(r),
      consumer_lag(r.AddGauge("event_consumer_lag",
                              "Unprocessed entries in the consumer group, per stream")),
      queue_depth(r.AddGauge("event_queue_depth", "Entries in the stream")),
      retries(r.AddCounter("streamshift_relay_retries_total",
                           "Deliveries scheduled again after a retryable failure")
                  .Add({})),
      claimed(r.AddCounter("streamshift_relay_claimed_total",
                           "Entries taken over from idle consumers with XAUTOCLAIM")
                  .Add({})),
      released(r.AddCounter("streamshift_relay_released_total",
                            "Entries left pending in Redis, out of memory, because their room "
                            "held its share; read again when the room can move")
                   .Add({})),
      lost_trimmed(r.AddCounter("streamshift_relay_lost_total",
                                "Pending entries that were trimmed or deleted before delivery")
                       .Add({{"reason", "trimmed"}})),
      duplicates_dropped(r.AddCounter("streamshift_relay_duplicates_dropped_total",
                                      "Entries acked without delivery: event_id already delivered")
                             .Add({})),
      groups_created(r.AddCounter("streamshift_relay_groups_created_total",
                                  "Consumer groups created (at start or after they were lost)")
                         .Add({})),
      consumers_deleted(
          r.AddCounter("streamshift_relay_consumers_deleted_total",
                       "Idle consumers without pending entries deleted from the group "
                       "(STREAMSHIFT_CONSUMER_IDLE_DELETE_MS)")
              .Add({})),
      consumer_pending_dropped(
          r.AddCounter("streamshift_relay_consumer_pending_dropped_total",
                       "Pending entries dropped by an idle consumer's deletion (should stay 0: "
                       "the deletion checks atomically that nothing is pending)")
              .Add({})),
      redis_errors(r.AddCounter("streamshift_relay_redis_errors_total",
                                "Redis commands that failed (error reply, timeout, connection)")
                       .Add({})),
      in_flight(
          r.AddGauge("streamshift_relay_in_flight", "Deliveries waiting for the target").Add({})),
      held(r.AddGauge("streamshift_relay_held_entries",
                      "Entries read and not yet acked: queued, delivering, retrying, acking")
               .Add({})),
      redis_connections_ready(
          r.AddGauge("streamshift_redis_connections_ready", "Redis connections ready, by client")
              .Add({})),
      draining(r.AddGauge("streamshift_draining", "1 after SIGTERM while draining").Add({})),
      redis_primary(attach_redis_primary_status(r)),
      delivery_duration_(r.AddHistogram(
          "event_delivery_duration_seconds",
          "End-to-end latency from ingress (the entry's ts_ms) to delivery to SignalR; entries "
          "redriven from the dead letters are not observed")) {
  Family<Counter>& attempts = r.AddCounter("streamshift_relay_deliveries_total",
                                           "Delivery attempts to the target, by outcome");
  attempts_[static_cast<int>(DeliveryOutcome::kDelivered)] =
      &attempts.Add({{"outcome", "delivered"}});
  attempts_[static_cast<int>(DeliveryOutcome::kRetryable)] =
      &attempts.Add({{"outcome", "retryable_failure"}});
  attempts_[static_cast<int>(DeliveryOutcome::kPermanent)] =
      &attempts.Add({{"outcome", "permanent_failure"}});
  Family<Counter>& dlq = r.AddCounter("streamshift_relay_dead_lettered_total",
                                      "Entries moved to the dead-letter stream, by reason");
  for (int i = 0; i < static_cast<int>(DeadLetterReason::kCount); ++i)
    dead_lettered_[i] = &dlq.Add(
        {{"reason", std::string(dead_letter_reason_name(static_cast<DeadLetterReason>(i)))}});
  add_build_info(r, "relay");
  add_redis_tls_verify(r, redis_tls);
  r.Attach(std::make_shared<ProcessMetrics>());
}

void RelayMetrics::set_consumer_lag(const std::string& stream, const std::string& group,
                                    std::optional<int64_t> lag) {
  set_gauge_or_remove(consumer_lag, {{"stream", stream}, {"consumer_group", group}},
                      lag ? std::optional<double>(*lag) : std::nullopt);
}

void RelayMetrics::set_queue_depth(const std::string& stream, std::optional<int64_t> length) {
  set_gauge_or_remove(queue_depth, {{"stream", stream}},
                      length ? std::optional<double>(*length) : std::nullopt);
}

Histogram& RelayMetrics::delivery_duration(std::string_view event_type) {
  std::string key(event_type);
  if (auto it = by_event_type_.find(key); it != by_event_type_.end()) return *it->second;
  if (by_event_type_.size() >= kMaxEventTypes) {
    key = "other";
    if (auto it = by_event_type_.find(key); it != by_event_type_.end()) return *it->second;
  }
  Histogram* h = &delivery_duration_.Add({{"event_type", key}, {"transport", "redis_streams"}});
  by_event_type_.emplace(key, h);
  return *h;
}

}  // namespace streamshift
