// The relay's admin listener, on the relay's own loop (the relay is not a
// data plane with a latency budget of its own):
//   GET /metrics   Prometheus text format 0.0.4 (relay metrics + process_*)
//   GET /healthz   liveness: the loop answers
//   GET /readyz    readiness: Redis connected, groups in place, not draining
#pragma once

#include <memory>

#include "core/http_server.h"
#include "core/metrics.h"
#include "relay/relay.h"
#include "relay/relay_settings.h"

namespace streamshift {

class RelayAdmin : public RequestHandler {
 public:
  RelayAdmin(uv_loop_t* loop, const RelaySettings& settings, Registry& registry,
             const Relay& relay);

  /// Binds and listens; 0 or a libuv error code.
  int start();
  /// Closes the listener and its connections; `on_closed` runs after.
  void close(std::function<void()> on_closed);
  uint16_t port() const { return server_.port(); }

  void on_request(Exchange& exchange) override;

 private:
  Registry& registry_;
  const Relay& relay_;
  HttpServer server_;
};

}  // namespace streamshift
