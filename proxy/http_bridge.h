// The HTTP bridge: forwards a request to the SignalR internal API over the
// worker's keep-alive pool and relays the answer to the app.
//
// Headers are re-serialized (never raw bytes), hop-by-hop ones dropped,
// X-Forwarded-For appended, X-Request-Id kept or generated. Upstream
// failures become JSON errors: unreachable 502, timeout 504.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/http_client.h"
#include "core/http_server.h"
#include "core/ids.h"
#include "core/net_address.h"
#include "proxy/event_accounting.h"
#include "proxy/proxy_metrics.h"

namespace streamshift {

class HttpBridge : public RequestHandler {
 public:
  /// `metrics` may be null (tests).
  HttpBridge(UpstreamPool& pool, HttpUrl upstream, ProxyMetrics* metrics = nullptr)
      : pool_(pool), upstream_(std::move(upstream)), metrics_(metrics) {}

  void on_request(Exchange& exchange) override { forward(exchange, {}); }

  /// Forwards `exchange`'s request; `extra_response_headers` ("Name: v\r\n"
  /// text) is added to the answer, whatever it is. The request body is moved
  /// into the upstream request (the one copy was from the socket).
  /// With an `event_id`, the upstream request carries it as X-Event-Id
  /// (replacing the client's), so the consumer side can drop duplicates.
  void forward(Exchange& exchange, std::string extra_response_headers,
               std::string_view event_id = {}, HttpTally tally = {});

  /// Sends a request that no client waits for (a coalesced event's trailing
  /// edge); `done(ok)` runs when the upstream has answered or failed.
  void send_detached(std::string head, std::string body, HttpTally tally,
                     std::function<void(bool ok)> done);

  /// The request head toward the upstream (exposed for tests).
  std::string upstream_head(const HttpRequest& request, std::string_view client_ip,
                            std::string_view event_id = {});

 private:
  /// Counts an upstream answer (or failure); true for a 2xx.
  bool answered(const UpstreamResponse& r, uint64_t started_ns, const HttpTally& tally);

  UpstreamPool& pool_;
  HttpUrl upstream_;
  ProxyMetrics* metrics_;
  IdGenerator ids_;
};

/// The JSON error answer for an upstream failure: 502, 503 or 504.
int status_for_upstream_error(UpstreamError error);

}  // namespace streamshift
