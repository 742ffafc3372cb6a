// Delivery outcomes and the replayed request; see delivery_policy.h.
#include "relay/delivery_policy.h"

namespace streamshift {

DeliveryOutcome classify_delivery(const UpstreamResponse& response) {
  if (response.error != UpstreamError::kNone) {
    // A response too large or unparseable came from a target that did
    // answer; retrying cannot change it, but it may be a transient proxy
    // fault: treat every transport-level failure as retryable and let
    // STREAMSHIFT_MAX_DELIVERIES bound it.
    return DeliveryOutcome::kRetryable;
  }
  int s = response.status;
  if (s >= 200 && s < 300) return DeliveryOutcome::kDelivered;
  if (s >= 500 || s == 408 || s == 429) return DeliveryOutcome::kRetryable;
  return DeliveryOutcome::kPermanent;
}

std::string replay_request_head(const RelayEntry& e, const HttpUrl& target) {
  const EventEntry& entry = e.event;
  std::string head;
  head.reserve(160 + target.path_prefix.size() + entry.path.size() + entry.content_type.size() +
               entry.event_id.size());
  head.append(entry.method);
  head += ' ';
  head += target.path_prefix;
  head.append(entry.path);
  head += " HTTP/1.1\r\nHost: ";
  head += target.authority;
  head += "\r\n";
  if (!entry.content_type.empty()) {
    head += "Content-Type: ";
    head.append(entry.content_type);
    head += "\r\n";
  }
  head += "Content-Length: ";
  head += std::to_string(entry.body.size());
  head += "\r\nX-Event-Id: ";
  head.append(entry.event_id);
  head += "\r\nX-Event-Transport: redis_streams\r\n\r\n";
  return head;
}

}  // namespace streamshift
