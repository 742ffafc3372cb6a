// What an upstream request ends with: a response, or the error that ended it.
// Filled by HttpResponseReader (core/http_response_reader.h) or by the pool
// (core/http_client.h) when no response could be read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/http_message.h"

namespace streamshift {

enum class UpstreamError {
  kNone,
  kResolveFailed,
  kConnectFailed,
  kConnectTimeout,
  kTimeout,           // no complete response within the request timeout
  kClosed,            // the upstream closed the connection before a complete response
  kBadResponse,       // unparseable response
  kResponseTooLarge,  // head over max_response_head_bytes or kMaxHeaderFields, or body over
                      // max_response_bytes
  kShutdown,
};
std::string_view upstream_error_name(UpstreamError error);

struct UpstreamResponse {
  UpstreamError error = UpstreamError::kNone;
  std::string detail;
  int status = 0;
  uint32_t reason_off = 0, reason_len = 0;
  HeaderBlock headers;
  std::string body;
  /// No body by its nature (answer to HEAD, 1xx, 204, 304): pass Content-Length through.
  bool bodiless = false;

  /// A response that is only an error.
  static UpstreamResponse failure(UpstreamError error, std::string detail) {
    UpstreamResponse r;
    r.error = error;
    r.detail = std::move(detail);
    return r;
  }

  std::string_view reason() const { return headers.view(reason_off, reason_len); }
  void clear() {
    error = UpstreamError::kNone;
    detail.clear();
    status = 0;
    reason_off = reason_len = 0;
    headers.clear();
    body.clear();
    bodiless = false;
  }
};

}  // namespace streamshift
