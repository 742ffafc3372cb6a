// The relay's metrics. event_delivery_duration_seconds and
// event_consumer_lag keep the names and labels of the transport guide and
// the consumer-lag document; the streamshift_relay_* ones are our own.
// Everything runs on the relay's one loop, so no locking beyond the
// registry's own.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/metrics.h"
#include "core/redis_primary_status.h"
#include "core/redis_tls.h"

namespace streamshift {

/// How one delivery attempt ended.
enum class DeliveryOutcome { kDelivered, kRetryable, kPermanent, kCount };

/// Why an entry went to the dead-letter stream.
enum class DeadLetterReason { kPermanentStatus, kMaxDeliveries, kMalformed, kCount };
/// "permanent_status", "max_deliveries", "malformed": the metric's label and
/// the dead letter's dlq_reason field.
std::string_view dead_letter_reason_name(DeadLetterReason reason);
/// The reason named `name`, or nullopt.
std::optional<DeadLetterReason> parse_dead_letter_reason(std::string_view name);

class RelayMetrics {
 public:
  /// `redis_tls`: the connections' TLS (null: redis://), for its gauge.
  RelayMetrics(Registry& registry, const RedisTlsContext* redis_tls);

  /// Distinct event_type label values are capped; beyond the cap, "other".
  static constexpr size_t kMaxEventTypes = 64;
  /// event_delivery_duration_seconds{event_type, transport="redis_streams"}.
  Histogram& delivery_duration(std::string_view event_type);

  Counter& attempts(DeliveryOutcome outcome) { return *attempts_[static_cast<int>(outcome)]; }
  Counter& dead_lettered(DeadLetterReason reason) {
    return *dead_lettered_[static_cast<int>(reason)];
  }

  /// event_consumer_lag{stream,consumer_group}; nullopt removes the series.
  void set_consumer_lag(const std::string& stream, const std::string& group,
                        std::optional<int64_t> lag);
  /// event_queue_depth{stream}; nullopt removes the series.
  void set_queue_depth(const std::string& stream, std::optional<int64_t> length);

  Registry& registry;
  Family<Gauge>& consumer_lag;
  Family<Gauge>& queue_depth;
  Counter& retries;
  Counter& claimed;
  Counter& released;
  Counter& lost_trimmed;
  Counter& duplicates_dropped;
  Counter& groups_created;
  Counter& consumers_deleted;
  Counter& consumer_pending_dropped;
  Counter& redis_errors;
  Gauge& in_flight;
  Gauge& held;
  Gauge& redis_connections_ready;
  Gauge& draining;
  /// Given to both Redis clients (health and metrics).
  std::shared_ptr<RedisPrimaryStatus> redis_primary;

 private:
  Family<Histogram>& delivery_duration_;
  std::array<Counter*, static_cast<int>(DeliveryOutcome::kCount)> attempts_;
  std::array<Counter*, static_cast<int>(DeadLetterReason::kCount)> dead_lettered_;
  std::unordered_map<std::string, Histogram*> by_event_type_;
};

}  // namespace streamshift
