// What the upstream pool (core/http_client.h) is asked to send, the options
// it sends under, and a request on its way: waiting for a connection or in
// flight on one, until on_done has run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/upstream_response.h"

namespace streamshift {

struct UpstreamRequest {
  std::string head;  // request line and headers, ending with an empty line
  std::string body;  // owned until written
  /// Sent instead of `body` when that is empty: memory the caller keeps
  /// valid until on_done has run (a relay re-sends one entry's body).
  std::string_view borrowed_body;
  bool is_head = false;
  /// Called exactly once; may run inside send() when the request fails at once.
  std::function<void(UpstreamResponse& response)> on_done;
};

struct UpstreamOptions {
  std::string host;
  uint16_t port = 80;
  uint64_t connect_timeout_ms = 1000;
  uint64_t request_timeout_ms = 10000;
  size_t max_connections = 64;
  size_t max_response_bytes = 8 * 1024 * 1024;  // body (STREAMSHIFT_MAX_RESPONSE_BYTES)
  size_t max_response_head_bytes = 64 * 1024;   // status line + header fields
  uint64_t dns_ttl_ms = 30000;
};

/// A request sent and not yet answered.
struct PendingRequest {
  std::unique_ptr<UpstreamRequest> request;
  uint64_t deadline = 0;  // loop time (ms) by which it must be answered

  /// The one way a request ends: `request` is taken out before on_done runs,
  /// so that runs once, and a second call does nothing (returns null).
  /// Returns the request: the caller keeps it while its bytes are still
  /// being written.
  std::unique_ptr<UpstreamRequest> complete(UpstreamResponse& response) {
    std::unique_ptr<UpstreamRequest> done = std::move(request);
    if (done) done->on_done(response);
    return done;
  }
  std::unique_ptr<UpstreamRequest> fail(UpstreamError error, std::string detail) {
    if (!request) return nullptr;
    UpstreamResponse response = UpstreamResponse::failure(error, std::move(detail));
    return complete(response);
  }
};

}  // namespace streamshift
