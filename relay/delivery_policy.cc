// Delivery outcomes and the replayed request; see delivery_policy.h.
#include "relay/delivery_policy.h"

#include "core/http_message.h"

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

NextStep next_step(DeliveryOutcome outcome, int attempts, int max_deliveries) {
  if (outcome == DeliveryOutcome::kDelivered) return NextStep::kDone;
  if (outcome == DeliveryOutcome::kPermanent) return NextStep::kPermanent;
  return attempts < max_deliveries ? NextStep::kRetry : NextStep::kOutOfAttempts;
}

std::string failure_text(const UpstreamResponse& response) {
  if (response.error == UpstreamError::kNone) return "HTTP " + std::to_string(response.status);
  std::string text(upstream_error_name(response.error));
  if (!response.detail.empty()) text += ": " + response.detail;
  return text;
}

bool block_names_header(std::string_view block, std::string_view name) {
  while (!block.empty()) {
    size_t end = block.find("\r\n");
    std::string_view line = block.substr(0, end);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos && iequals(line.substr(0, colon), name)) return true;
    if (end == std::string_view::npos) break;
    block.remove_prefix(end + 2);
  }
  return false;
}

std::string replay_request_head(const RelayEntry& e, const HttpUrl& target,
                                std::string_view extra_headers) {
  const EventEntry& entry = e.event;
  size_t captured = 0;
  for (size_t i = 0; i < entry.header_count; ++i)
    captured += entry.headers[i].field.size() + entry.headers[i].value.size() + 4;
  std::string head;
  head.reserve(160 + target.path_prefix.size() + entry.path.size() + entry.content_type.size() +
               entry.event_id.size() + extra_headers.size() + captured);
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
  head += "\r\nX-Event-Transport: redis_streams\r\n";
  head += extra_headers;
  // decode_entry kept only replayable `h:` headers (core/event_entry.h).
  for (size_t i = 0; i < entry.header_count; ++i) {
    const EntryHeader& h = entry.headers[i];
    if (!extra_headers.empty() && block_names_header(extra_headers, h.name())) continue;
    head.append(h.name());
    head += ": ";
    head.append(h.value);
    head += "\r\n";
  }
  head += "\r\n";
  return head;
}

}  // namespace streamshift
