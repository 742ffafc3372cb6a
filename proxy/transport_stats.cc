// Transport counters; see transport_stats.h.
#include "proxy/transport_stats.h"

#include <initializer_list>
#include <utility>

namespace streamshift {

std::string_view fallback_reason_name(FallbackReason reason) {
  switch (reason) {
    case FallbackReason::kRedisError:
      return "redis_error";
    case FallbackReason::kTimeout:
      return "timeout";
    case FallbackReason::kConnectionLost:
      return "connection_lost";
    case FallbackReason::kCircuitOpen:
      return "circuit_open";
    case FallbackReason::kReplicationTimeout:
      return "replication_timeout";
    case FallbackReason::kCount:
      break;
  }
  return "unknown";
}

std::string_view lost_reason_name(LostReason reason) {
  return reason == LostReason::kRedisFailed ? "redis_failed" : "http_failed";
}

uint64_t TransportStats::get(Outcome outcome) const {
  size_t i = static_cast<size_t>(outcome);
  if (i >= kTypeOutcomes) return worker_[i - kTypeOutcomes].load(std::memory_order_relaxed);
  uint64_t sum = 0;
  for (size_t slot = 0; slot < kTypeSlots; ++slot) sum += get_type(slot, outcome);
  return sum;
}

void TransportStats::add(const TransportStats& o) {
  for (size_t i = 0; i < kOutcomes - kTypeOutcomes; ++i)
    bump(worker_[i], o.worker_[i].load(std::memory_order_relaxed));
  for (size_t slot = 0; slot < kTypeSlots; ++slot) {
    for (size_t i = 0; i < kTypeOutcomes; ++i)
      bump(types_[slot][i], o.types_[slot][i].load(std::memory_order_relaxed));
  }
}

std::string TransportStats::to_json() const {
  using Keys = std::initializer_list<std::pair<std::string_view, Outcome>>;
  auto members = [this](std::string& s, Keys keys) {
    for (const auto& [key, outcome] : keys) {
      if (s.back() != '{') s += ',';
      s += '"';
      s += key;
      s += "\":" + std::to_string(get(outcome));
    }
  };
  std::string s = "{";
  members(s, {{"redis_published", Outcome::kStored},
              {"redis_failed", Outcome::kXaddFailed},
              {"http_routed", Outcome::kHttpRouted}});
  s += ",\"fallback\":{";
  for (int i = 0; i < static_cast<int>(FallbackReason::kCount); ++i) {
    auto reason = static_cast<FallbackReason>(i);
    members(s, {{fallback_reason_name(reason), fallback_outcome(reason)}});
  }
  s += '}';
  members(s, {{"refused_503", Outcome::kRefused},
              {"dual_write_success", Outcome::kShadowStored},
              {"dual_write_failure", Outcome::kShadowFailed},
              {"bad_events", Outcome::kInvalid},
              {"passthrough", Outcome::kPassthrough}});
  s += '}';
  return s;
}

}  // namespace streamshift
