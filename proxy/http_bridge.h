// The HTTP bridge: forwards a request to the SignalR internal API over the
// worker's keep-alive pool and relays the answer to the app.
//
// Headers are re-serialized (never raw bytes), hop-by-hop ones dropped,
// X-Forwarded-For appended, X-Request-Id kept or generated. Upstream
// failures become JSON errors: unreachable 502, timeout 504.
#pragma once

#include <string>
#include <string_view>

#include "core/http_client.h"
#include "core/http_server.h"
#include "core/ids.h"
#include "core/net_address.h"

namespace streamshift {

class HttpBridge : public RequestHandler {
 public:
  HttpBridge(UpstreamPool& pool, HttpUrl upstream) : pool_(pool), upstream_(std::move(upstream)) {}

  void on_request(Exchange& exchange) override { forward(exchange, {}); }

  /// Forwards `exchange`'s request; `extra_response_headers` ("Name: v\r\n"
  /// text) is added to the answer, whatever it is. The request body is moved
  /// into the upstream request (the one copy was from the socket).
  /// With an `event_id`, the upstream request carries it as X-Event-Id
  /// (replacing the client's), so the consumer side can drop duplicates.
  void forward(Exchange& exchange, std::string extra_response_headers,
               std::string_view event_id = {});

  /// The request head toward the upstream (exposed for tests).
  std::string upstream_head(const HttpRequest& request, std::string_view client_ip,
                            std::string_view event_id = {});

 private:
  UpstreamPool& pool_;
  HttpUrl upstream_;
  IdGenerator ids_;
};

/// The JSON error answer for an upstream failure: 502, 503 or 504.
int status_for_upstream_error(UpstreamError error);

}  // namespace streamshift
