// Names of the upstream errors, for logs and metrics; see upstream_response.h.
#include "core/upstream_response.h"

namespace streamshift {

std::string_view upstream_error_name(UpstreamError error) {
  switch (error) {
    case UpstreamError::kNone:
      return "none";
    case UpstreamError::kResolveFailed:
      return "resolve_failed";
    case UpstreamError::kConnectFailed:
      return "connect_failed";
    case UpstreamError::kConnectTimeout:
      return "connect_timeout";
    case UpstreamError::kTimeout:
      return "timeout";
    case UpstreamError::kClosed:
      return "upstream_closed";
    case UpstreamError::kBadResponse:
      return "bad_response";
    case UpstreamError::kResponseTooLarge:
      return "response_too_large";
    case UpstreamError::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

}  // namespace streamshift
