// One sidecar worker: an event loop on its own thread with its own listener
// (sharing the port through SO_REUSEPORT), upstream pool and bridge.
// Nothing is shared between workers; the main thread only asks them to drain,
// and the admin loop hands them the transport settings in force (issue 19) as
// an immutable snapshot, taken between two requests (core/runtime_snapshot.h).
#pragma once

#include <uv.h>

#include <atomic>
#include <memory>
#include <thread>

#include "core/http_client.h"
#include "core/http_server.h"
#include "core/redis_client.h"
#include "core/runtime_snapshot.h"
#include "proxy/admin_probes.h"
#include "proxy/event_accounting.h"
#include "proxy/event_clock.h"
#include "proxy/event_links.h"
#include "proxy/event_router.h"
#include "proxy/event_sender.h"
#include "proxy/http_bridge.h"
#include "proxy/proxy_settings.h"
#include "proxy/routes.h"

namespace streamshift {

class Worker {
 public:
  /// `budgets` are the process's, shared by every worker; `runtime` hands the transport
  /// settings in force (its first snapshot is the start's).
  Worker(const ProxySettings& settings, const RouteTable& routes, ProxyMetrics& metrics, int index,
         IngressBudgets& budgets, SnapshotHub<TransportSettings>& runtime);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// Binds the listener on the calling thread (so bind errors surface at
  /// start), then runs the loop on a new thread. 0 or a libuv error code.
  int start();
  /// Thread-safe: stop accepting, finish requests in flight within the
  /// drain timeout, then let the loop end.
  void request_drain();
  /// Waits for the loop thread to end.
  void join();
  /// Valid after join().
  const TransportStats& stats() const { return accounting_->stats(); }
  const WorkerHealth& health() const { return health_; }

 private:
  static void on_wake(uv_async_t* handle);
  static void on_drain_timeout(uv_timer_t* timer);
  static void on_heartbeat(uv_timer_t* timer);
  void begin_drain();
  void finish();
  void closed_one();
  /// The Redis client, made when the settings first need it.
  void make_redis(const TransportSettings& transport);
  /// A new snapshot: every part decides from it from now on.
  void use(const TransportSettings& transport);

  const ProxySettings& settings_;
  ProxyMetrics& metrics_;
  int index_;
  uv_loop_t loop_;
  uv_async_t wake_;
  uv_timer_t drain_timer_;
  uv_timer_t heartbeat_;
  WorkerHealth health_;
  std::unique_ptr<SnapshotSlot<TransportSettings>> runtime_;
  std::unique_ptr<UpstreamPool> pool_;
  std::unique_ptr<HttpBridge> bridge_;
  std::unique_ptr<RedisCommands> redis_;
  std::unique_ptr<LoopClock> clock_;
  std::unique_ptr<EventAccounting> accounting_;
  std::unique_ptr<LiveLinks> links_;
  std::unique_ptr<EventSenderImpl> sender_;
  std::unique_ptr<EventRouter> router_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  std::atomic<bool> drain_requested_{false};
  bool draining_ = false;
  bool finished_ = false;
  bool server_drained_ = false;
  bool router_idle_ = false;
  int closing_parts_ = 0;
};

}  // namespace streamshift
