// The sidecar's request handler: matches the route table, reads the event
// fields, decides the transport per event and carries it out.
//
//   request --no route--> HTTP bridge (unchanged)
//      | event route
//      v
//   read fields (400 on a bad body) --> dual write?  HTTP + shadow XADD
//      |                                rollout: HTTP --> bridge (X-Event-Id)
//      v rollout: Redis
//   circuit open? --> fallback
//      v
//   XADD (timed) --ok--> 202 {"status":"accepted",...}
//      | timeout / error reply / connection lost
//      v
//   EVENT_TRANSPORT_FALLBACK_TO_HTTP? --> bridge : 503
//
// Every answer on an event route carries X-Event-Transport and X-Event-Id.
#pragma once

#include <uv.h>

#include <string>
#include <unordered_map>

#include "core/http_server.h"
#include "core/ids.h"
#include "core/redis_client.h"
#include "proxy/circuit_breaker.h"
#include "proxy/http_bridge.h"
#include "proxy/rollout.h"
#include "proxy/routes.h"
#include "proxy/transport_settings.h"
#include "proxy/transport_stats.h"

namespace streamshift {

class EventRouter : public RequestHandler {
 public:
  /// `redis` may be null when the settings need no Redis; `metrics` in tests.
  EventRouter(uv_loop_t* loop, const RouteTable& routes, const TransportSettings& settings,
              HttpBridge& bridge, RedisClient* redis, ProxyMetrics* metrics = nullptr,
              int worker = 0);

  void on_request(Exchange& exchange) override;
  const TransportStats& stats() const { return stats_; }

 private:
  struct Publish;
  static void on_published(void* data, const RedisResult& result);
  static void on_shadow_published(void* data, const RedisResult& result);
  void fallback(Exchange& exchange, const std::string& event_id, FallbackReason reason,
                std::string_view detail);
  void forward_http(Exchange& exchange, const std::string& event_id, EventTypeMetrics* event,
                    bool dual_write);
  EventTypeMetrics* event_metrics(const std::string& event_type);
  void circuit_changed();

  uv_loop_t* loop_;
  const RouteTable& routes_;
  const TransportSettings& settings_;
  HttpBridge& bridge_;
  RedisClient* redis_;
  Rollout rollout_;
  CircuitBreaker circuit_;
  IdGenerator ids_;
  TransportStats stats_;
  ProxyMetrics* metrics_;
  Gauge* circuit_gauge_ = nullptr;
  std::unordered_map<std::string, EventTypeMetrics*> event_metrics_;  // this worker's cache
};

}  // namespace streamshift
