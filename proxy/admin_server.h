// The admin listener, on its own thread and loop, apart from the ingress:
//   GET /metrics                      Prometheus text format 0.0.4
//   GET /healthz                      liveness: every worker loop is turning
//   GET /readyz                       readiness: listening, not draining, and
//                                     Redis connected or HTTP fallback available
//   GET /api/v1/events/consumer-lag   } the consumer-lag monitoring document's
//   GET /api/v1/events/streams        } endpoints, behind
//   GET /api/v1/events/health         } Authorization: Bearer STREAMSHIFT_ADMIN_TOKEN
#pragma once

#include <uv.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/http_server.h"
#include "core/metrics.h"
#include "proxy/admin_settings.h"
#include "proxy/lag_monitor.h"
#include "proxy/proxy_metrics.h"
#include "proxy/transport_settings.h"

namespace streamshift {

/// What the probes read from the workers; written by them, read here.
struct WorkerHealth {
  std::atomic<uint64_t> heartbeat_ms{0};  // uv_hrtime in ms at the last tick
  std::atomic<bool> listening{false};
};

class AdminServer : public RequestHandler {
 public:
  AdminServer(const AdminSettings& admin, const TransportSettings& transport, Registry& registry,
              ProxyMetrics& metrics, std::vector<const WorkerHealth*> workers,
              const std::atomic<bool>& draining);
  ~AdminServer() override;

  /// Binds on the calling thread, then serves on a thread of its own.
  int start();
  /// Thread-safe: stop serving; join() then returns.
  void stop();
  void join();

  void on_request(Exchange& exchange) override;

 private:
  static void on_wake(uv_async_t* handle);
  void serve_metrics(Exchange& exchange);
  void serve_events(Exchange& exchange, std::string_view path);
  bool authorized(Exchange& exchange);

  const AdminSettings& admin_;
  const TransportSettings& transport_;
  Registry& registry_;
  ProxyMetrics& metrics_;
  std::vector<const WorkerHealth*> workers_;
  const std::atomic<bool>& draining_;
  uv_loop_t loop_;
  uv_async_t wake_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<LagMonitor> lag_;
  std::thread thread_;
  std::atomic<bool> stop_requested_{false};
  bool served_ = false;   // the loop thread was started
  bool stopped_ = false;  // on the loop's thread: shutdown already begun
};

/// Constant-time comparison (no early exit on the first differing byte).
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace streamshift
