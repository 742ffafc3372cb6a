// The admin listener both programs run, apart from their data planes:
//
//   GET|HEAD /metrics     the registry, Prometheus text format 0.0.4
//   GET|HEAD /healthz     liveness: the program's probe ({"status":"ok"} if none)
//   GET|HEAD /readyz      readiness: the program's probe
//   GET|HEAD <prefix>...  a program's own routes (add_prefix)
//   POST <path>           a program's own actions (add_post), POST only
//   any other method      405 {"error":"method_not_allowed",...}, Allow: GET, HEAD
//                         (Allow: POST on an action's path)
//   any other path        404 {"error":"not_found",...}
//
// The method is checked before the path, for every route alike. Answers to
// HEAD carry no body (core/http_server does that for every answer).
#pragma once

#include <uv.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_server.h"
#include "core/metrics.h"
#include "core/net_address.h"

namespace streamshift {

/// A probe's answer: 200 or 503 and a JSON body.
struct ProbeAnswer {
  int status = 200;
  std::string body;
};

/// 200 {"status":"ok"}: the liveness of a program whose loop answers.
ProbeAnswer probe_ok();

class AdminRouter : public RequestHandler {
 public:
  using Probe = std::function<ProbeAnswer()>;
  /// Answers `exchange` (now or later); `rest` is the path after the prefix.
  using Route = std::function<void(Exchange& exchange, std::string_view rest)>;

  AdminRouter(Registry& registry, Probe readiness, Probe liveness = nullptr);

  /// Paths starting with `prefix` go to `route`.
  void add_prefix(std::string prefix, Route route);
  /// POST to exactly `path` goes to `route` (`rest` empty); other methods on
  /// it answer 405.
  void add_post(std::string path, Route route);

  void on_request(Exchange& exchange) override;

 private:
  struct PrefixRoute {
    std::string prefix;
    Route route;
  };
  void answer(Exchange& exchange, const Probe& probe);

  Registry& registry_;
  Probe readiness_;
  Probe liveness_;
  std::vector<PrefixRoute> routes_;
  std::vector<PrefixRoute> posts_;
};

/// The admin HTTP server on `loop`: no request bodies, no SO_REUSEPORT,
/// every request through an AdminRouter.
class AdminListener {
 public:
  AdminListener(uv_loop_t* loop, const HostPort& listen, Registry& registry,
                AdminRouter::Probe readiness, AdminRouter::Probe liveness = nullptr);

  AdminRouter& router() { return router_; }
  /// Binds and listens; 0 or a libuv error code.
  int start();
  /// Stops listening and closes every connection (logged with `reason`);
  /// `on_closed` runs once none is left.
  void close(std::string_view reason, std::function<void()> on_closed);
  uint16_t port() const { return server_.port(); }

 private:
  AdminRouter router_;
  HttpServer server_;
};

}  // namespace streamshift
