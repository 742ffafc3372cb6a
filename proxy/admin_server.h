// The sidecar's admin listener, on its own thread and loop, apart from the
// ingress: core/admin_router.h (/metrics, /healthz, /readyz, with the
// probes of admin_probes.h) plus the events API of events_api.h under
// /api/v1/events/ (with the stream inspection of stream_inspection.h), whose
// look-ups run on this loop's own Redis connection.
#pragma once

#include <uv.h>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "core/admin_router.h"
#include "core/metrics.h"
#include "core/runtime_control.h"
#include "proxy/admin_probes.h"
#include "proxy/admin_settings.h"
#include "proxy/events_api.h"
#include "proxy/lag_monitor.h"
#include "proxy/proxy_metrics.h"
#include "proxy/stream_inspection.h"
#include "proxy/transport_settings.h"

namespace streamshift {

class AdminServer {
 public:
  /// `runtime`: builds the runtime control on the admin loop (GET /runtime,
  /// POST /runtime_modify, the runtime directory).
  using MakeRuntime = std::function<std::unique_ptr<RuntimeControl>(uv_loop_t* loop)>;
  AdminServer(const AdminSettings& admin, const TransportSettings& transport, Registry& registry,
              ProxyMetrics& metrics, std::vector<const WorkerHealth*> workers,
              const std::atomic<bool>& draining, const MakeRuntime& runtime);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  /// On the admin loop: the transport settings now in force (a runtime change).
  void transport_changed(const TransportSettings& transport);

  /// Binds on the calling thread, then serves on a thread of its own.
  int start();
  /// Thread-safe: stop serving; join() then returns.
  void stop();
  void join();

 private:
  static void on_wake(uv_async_t* handle);

  ProxyMetrics& metrics_;
  std::vector<const WorkerHealth*> workers_;
  const std::atomic<bool>& draining_;
  uv_loop_t loop_;
  uv_async_t wake_;
  std::unique_ptr<AdminListener> listener_;
  std::unique_ptr<LagMonitor> lag_;
  std::unique_ptr<StreamInspection> inspection_;
  std::unique_ptr<EventsApi> events_;
  std::unique_ptr<RuntimeControl> runtime_;
  std::thread thread_;
  std::atomic<bool> stop_requested_{false};
  bool served_ = false;   // the loop thread was started
  bool stopped_ = false;  // on the loop's thread: shutdown already begun
};

}  // namespace streamshift
