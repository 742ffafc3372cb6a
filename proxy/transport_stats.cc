// Transport counters; see transport_stats.h.
#include "proxy/transport_stats.h"

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
    case FallbackReason::kCount:
      break;
  }
  return "unknown";
}

void TransportStats::add(const TransportStats& o) {
  redis_published += o.redis_published;
  redis_failed += o.redis_failed;
  http_routed += o.http_routed;
  for (int i = 0; i < static_cast<int>(FallbackReason::kCount); ++i) fallbacks[i] += o.fallbacks[i];
  refused_503 += o.refused_503;
  dual_write_success += o.dual_write_success;
  dual_write_failure += o.dual_write_failure;
  bad_events += o.bad_events;
  passthrough += o.passthrough;
}

std::string TransportStats::to_json() const {
  std::string s = "{\"redis_published\":" + std::to_string(redis_published) +
                  ",\"redis_failed\":" + std::to_string(redis_failed) +
                  ",\"http_routed\":" + std::to_string(http_routed) + ",\"fallback\":{";
  for (int i = 0; i < static_cast<int>(FallbackReason::kCount); ++i) {
    if (i > 0) s += ',';
    s += '"';
    s += fallback_reason_name(static_cast<FallbackReason>(i));
    s += "\":" + std::to_string(fallbacks[i]);
  }
  s += "},\"refused_503\":" + std::to_string(refused_503) +
       ",\"dual_write_success\":" + std::to_string(dual_write_success) +
       ",\"dual_write_failure\":" + std::to_string(dual_write_failure) +
       ",\"bad_events\":" + std::to_string(bad_events) +
       ",\"passthrough\":" + std::to_string(passthrough) + "}";
  return s;
}

}  // namespace streamshift
