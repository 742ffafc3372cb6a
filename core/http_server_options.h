// How the ingress server is set up: its address, limits and timeouts, the
// budgets it shares with the other workers, and who is told about answers.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/http_request_reader.h"
#include "core/net_address.h"
#include "core/shared_budget.h"

namespace streamshift {

/// Why a connection was closed as soon as it came.
enum class Refusal { kMaxConnections, kAcceptFailed, kCount };
std::string_view refusal_name(Refusal refusal);

/// Told about every answer the server sends (for metrics); called on the
/// loop's thread. `seconds` runs from the request's last byte (or, for a
/// refused request, its first) to the answer being queued.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void on_response(int status, double seconds) = 0;
  virtual void on_refused(Refusal) {}
};

struct ServerOptions {
  HostPort listen;
  bool reuse_port = true;
  int backlog = 1024;
  HttpRequestReader::Limits limits;
  uint64_t client_timeout_ms = 10000;
  uint64_t idle_timeout_ms = 60000;
  RequestObserver* observer = nullptr;
  /// Open client connections, shared by every worker's server; null: none.
  SharedBudget* connections = nullptr;
  /// Request body bytes all requests in flight hold together (from the
  /// first body byte to the answer), shared likewise; past it, 503 and close.
  SharedBudget* body_bytes = nullptr;
};

}  // namespace streamshift
