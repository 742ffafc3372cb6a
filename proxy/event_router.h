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

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/http_server.h"
#include "core/ids.h"
#include "core/redis_client.h"
#include "proxy/circuit_breaker.h"
#include "proxy/coalescer.h"
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

  /// SIGTERM: sends the coalescer's held events now and stops its timer;
  /// `on_idle` runs once every send the router started on its own (held
  /// events, their fallbacks) has finished.
  void flush(std::function<void()> on_idle);

  /// A held event, with all it takes to send it later over either transport.
  struct HeldEvent {
    std::string stream, event_id, event_type, room_id, user_id;
    bool has_user_id = false;
    int64_t ts_ms = 0;
    std::string method, path, content_type, body;
    std::string upstream_head;
  };

 private:
  struct Publish;
  struct DetachedPublish;
  static void on_published(void* data, const RedisResult& result);
  static void on_detached_published(void* data, const RedisResult& result);
  static void on_coalesce_timer(uv_timer_t* timer);
  void arm_coalesce_timer();
  void send_held(HeldEvent&& event);
  void send_held_http(HeldEvent&& event);
  void held_redis_failed(HeldEvent&& event, FallbackReason reason);
  void held_lost(std::string_view event_id, std::string_view event_type, LostReason reason,
                 std::string_view detail);
  void count_fallback(FallbackReason reason);
  bool redis_failing_without_fallback() const;
  void bridge_lenient(Exchange& exchange, const RouteMatch* match);
  void detached_done();
  static void on_shadow_published(void* data, const RedisResult& result);
  void fallback(Exchange& exchange, const std::string& event_id, FallbackReason reason,
                std::string_view detail, EventTypeMetrics* type_metrics);
  void forward_http(Exchange& exchange, const std::string& event_id, EventTypeMetrics* event,
                    bool dual_write);
  EventTypeMetrics* event_metrics(std::string_view event_type);
  bool mentions_coalesced_type(std::string_view body) const;
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
  struct TransparentHash : std::hash<std::string_view> {
    using is_transparent = void;
  };
  // This worker's cache, looked up by string_view without allocating.
  std::unordered_map<std::string, EventTypeMetrics*, TransparentHash, std::equal_to<>>
      event_metrics_;
  std::unique_ptr<Coalescer<HeldEvent>> coalescer_;
  uv_timer_t coalesce_timer_;
  bool coalesce_timer_open_ = false;
  uint64_t coalesce_timer_due_ = 0;
  size_t detached_in_flight_ = 0;
  std::function<void()> on_idle_;
};

}  // namespace streamshift
