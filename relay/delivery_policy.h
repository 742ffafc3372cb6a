// What the relay does with the target's answer to one delivery (the wait
// before trying again is core/backoff.h's):
//   2xx                                         delivered: ack
//   5xx, 408, 429, timeout, connection errors   retryable: back off, try again
//   anything else (other 4xx, 3xx, 1xx)         permanent: dead-letter
// (a retryable failure is final after STREAMSHIFT_MAX_DELIVERIES attempts)
// and the replayed request itself (the app's original call).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/http_client.h"
#include "core/net_address.h"
#include "relay/relay_entry.h"
#include "relay/relay_metrics.h"

namespace streamshift {

DeliveryOutcome classify_delivery(const UpstreamResponse& response);

/// What follows an attempt, for the relay and `streamshift replay` alike.
enum class NextStep {
  kDone,          // delivered
  kRetry,         // retryable, attempts left: back off, try again
  kPermanent,     // a permanent answer: final failure (dead letter)
  kOutOfAttempts  // retryable, but STREAMSHIFT_MAX_DELIVERIES attempts made
};
/// `attempts`: those made so far, this one included.
NextStep next_step(DeliveryOutcome outcome, int attempts, int max_deliveries);
/// A failed attempt in words: "HTTP 503", or the transport error's name and
/// detail ("timeout: ...").
std::string failure_text(const UpstreamResponse& response);

/// The request line and headers that replay `entry` to `target`: the
/// entry's method, the target's path prefix + the entry's path, its content
/// type and body length, plus X-Event-Id and X-Event-Transport: redis_streams;
/// then `extra_headers` ("Name: value\r\n" lines, the relay's headers file:
/// relay/target_headers.h) and the entry's captured headers (its `h:` fields),
/// but none the extra headers already name.
std::string replay_request_head(const RelayEntry& entry, const HttpUrl& target,
                                std::string_view extra_headers);

/// Whether a block of "Name: value\r\n" lines has a line named `name`
/// (case-insensitive).
bool block_names_header(std::string_view block, std::string_view name);

}  // namespace streamshift
