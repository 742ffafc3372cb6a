// Per-event transport decision and fallback; see event_router.h.
#include "proxy/event_router.h"

#include <sys/time.h>

#include "core/event_entry.h"
#include "core/json.h"
#include "core/log.h"
#include "core/loop.h"
#include "proxy/event_fields.h"
#include "proxy/event_type_peek.h"
#include "proxy/stream_entry.h"

namespace streamshift {
namespace {

std::string event_headers(std::string_view transport, std::string_view event_id) {
  std::string h = "X-Event-Transport: ";
  h += transport;
  h += "\r\nX-Event-Id: ";
  h += event_id;
  h += "\r\n";
  return h;
}

FallbackReason reason_for(RedisStatus status) {
  switch (status) {
    case RedisStatus::kTimeout:
      return FallbackReason::kTimeout;
    case RedisStatus::kConnectionLost:
    case RedisStatus::kNotConnected:
      return FallbackReason::kConnectionLost;
    default:
      return FallbackReason::kRedisError;
  }
}

// The entry contract's check (core/event_entry.h), as the relay will run it:
// an event is accepted only if the entry it becomes would be delivered.
bool check_contract(const EventFields& fields, const HttpRequest& request, std::string* error_field,
                    std::string* detail) {
  EventEntry entry{.event_id = fields.event_id,
                   .event_type = fields.event_type,
                   .room_id = fields.room_id,
                   .user_id = fields.user_id,
                   .has_user_id = fields.has_user_id,
                   .ts_ms = wall_clock_ms(),
                   .method = request.method,
                   .path = request.target(),
                   .content_type = request.headers.find("content-type").value_or(""),
                   .body = request.body};
  std::optional<EntryViolation> violation = check_entry(entry);
  if (!violation) return true;
  *error_field = violation->field;
  *detail = violation->detail;
  return false;
}

}  // namespace

// One XADD in flight for an exchange. The exchange outlives it: the
// connection is not freed before respond(), and only on_published answers.
struct EventRouter::DetachedPublish {
  EventRouter* router;
  HeldEvent event;
  uint64_t started_ns;
};

struct EventRouter::Publish {
  EventRouter* router;
  Exchange* exchange;
  std::string event_id;
  std::string stream;
  bool probe;
  EventTypeMetrics* metrics;
  uint64_t started_ns;
};

EventRouter::EventRouter(uv_loop_t* loop, const RouteTable& routes,
                         const TransportSettings& settings, HttpBridge& bridge, RedisClient* redis,
                         ProxyMetrics* metrics, int worker)
    : loop_(loop),
      routes_(routes),
      settings_(settings),
      bridge_(bridge),
      redis_(redis),
      rollout_(settings),
      circuit_(settings.circuit_failures, settings.circuit_open_ms),
      metrics_(metrics) {
  if (metrics_ != nullptr)
    circuit_gauge_ = &metrics_->circuit_open.Add({{"worker", std::to_string(worker)}});
  const CoalescingSettings& c = settings.coalescing;
  if (c.enabled) {
    CoalescerOptions options{c.window_ms, c.refresh_ms, c.max_keys};
    coalescer_ = std::make_unique<Coalescer<HeldEvent>>(options, [this](const std::string& type) {
      if (EventTypeMetrics* m = event_metrics(type)) m->coalesced->Increment();
    });
    uv_timer_init(loop, &coalesce_timer_);
    coalesce_timer_.data = this;
    coalesce_timer_open_ = true;
  }
}

void EventRouter::arm_coalesce_timer() {
  if (!coalesce_timer_open_) return;
  uint64_t due = coalescer_->next_deadline();
  if (due == coalesce_timer_due_) return;
  coalesce_timer_due_ = due;
  if (due == 0) {
    uv_timer_stop(&coalesce_timer_);
    return;
  }
  uint64_t now = uv_now(loop_);
  uv_timer_start(&coalesce_timer_, on_coalesce_timer, due > now ? due - now : 0, 0);
}

void EventRouter::on_coalesce_timer(uv_timer_t* timer) {
  auto* self = static_cast<EventRouter*>(timer->data);
  self->coalesce_timer_due_ = 0;
  self->coalescer_->advance(uv_now(self->loop_),
                            [self](HeldEvent&& e) { self->send_held(std::move(e)); });
  self->arm_coalesce_timer();
}

void EventRouter::flush(std::function<void()> on_idle) {
  on_idle_ = std::move(on_idle);
  if (coalescer_) coalescer_->flush([this](HeldEvent&& e) { send_held(std::move(e)); });
  if (coalesce_timer_open_) {
    coalesce_timer_open_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&coalesce_timer_), nullptr);
  }
  if (detached_in_flight_ == 0 && on_idle_) {
    auto done = std::move(on_idle_);
    on_idle_ = nullptr;
    done();
  }
}

void EventRouter::detached_done() {
  if (--detached_in_flight_ == 0 && on_idle_) {
    auto done = std::move(on_idle_);
    on_idle_ = nullptr;
    done();
  }
}

// A held event goes out like a fresh one: the rollout decides, Redis
// failures fall back to HTTP; nobody waits for the answer.
void EventRouter::send_held(HeldEvent&& e) {
  bool to_redis = rollout_.use_redis(e.room_id) && redis_ != nullptr;
  StreamEntry entry{e.stream, e.event_id, e.event_type, e.room_id,      e.user_id, e.has_user_id,
                    e.ts_ms,  e.method,   e.path,       e.content_type, e.body};
  if (settings_.dual_write && redis_ != nullptr) {
    publish_entry(*redis_, entry, settings_.stream_max_len, settings_.publish_timeout_ms,
                  on_shadow_published, this);
    to_redis = false;
  }
  if (to_redis && circuit_.decide(uv_now(loop_)) != CircuitBreaker::Decision::kReject) {
    ++detached_in_flight_;
    auto* d = new DetachedPublish{this, std::move(e), uv_hrtime()};
    StreamEntry moved{d->event.stream,       d->event.event_id, d->event.event_type,
                      d->event.room_id,      d->event.user_id,  d->event.has_user_id,
                      d->event.ts_ms,        d->event.method,   d->event.path,
                      d->event.content_type, d->event.body};
    publish_entry(*redis_, moved, settings_.stream_max_len, settings_.publish_timeout_ms,
                  on_detached_published, d);
    return;
  }
  if (to_redis) {
    if (EventTypeMetrics* m = event_metrics(e.event_type)) m->redis_failure->Increment();
    held_redis_failed(std::move(e), FallbackReason::kCircuitOpen);
    return;
  }
  ++stats_.http_routed;
  send_held_http(std::move(e));
}

void EventRouter::send_held_http(HeldEvent&& e) {
  ++detached_in_flight_;
  ForwardAccounting accounting;
  accounting.event = event_metrics(e.event_type);
  bridge_.send_detached(
      std::move(e.upstream_head), std::move(e.body), accounting,
      [this, id = std::move(e.event_id), type = std::move(e.event_type)](bool ok) {
        if (!ok) held_lost(id, type, LostReason::kHttpFailed, "the upstream did not answer 2xx");
        detached_done();
      });
}

// A held event's XADD failed, or the circuit refused it. The app was
// answered 202 long ago, so it falls back to HTTP or, with the fallback off,
// it is lost: counted and logged, never silently.
void EventRouter::held_redis_failed(HeldEvent&& e, FallbackReason reason) {
  if (settings_.fallback_to_http) {
    count_fallback(reason);
    send_held_http(std::move(e));
    return;
  }
  held_lost(e.event_id, e.event_type, LostReason::kRedisFailed, fallback_reason_name(reason));
}

void EventRouter::held_lost(std::string_view event_id, std::string_view event_type,
                            LostReason reason, std::string_view detail) {
  if (metrics_ != nullptr) metrics_->lost(reason).Increment();
  log_line(LogLevel::kWarn, "coalesced event lost: acknowledged 202 and never delivered",
           {{"event_id", event_id},
            {"event_type", event_type},
            {"reason", lost_reason_name(reason)},
            {"detail", detail}});
}

void EventRouter::count_fallback(FallbackReason reason) {
  ++stats_.fallbacks[static_cast<int>(reason)];
  if (metrics_ != nullptr) metrics_->fallback[static_cast<int>(reason)]->Increment();
}

EventTypeMetrics* EventRouter::event_metrics(std::string_view event_type) {
  if (metrics_ == nullptr) return nullptr;
  auto it = event_metrics_.find(event_type);
  if (it != event_metrics_.end()) return it->second;
  EventTypeMetrics* m = metrics_->for_event_type(event_type);
  if (event_metrics_.size() < 2 * ProxyMetrics::kMaxEventTypes)
    event_metrics_.emplace(std::string(event_type), m);
  return m;
}

// With the fallback off, a held event whose XADD fails could only be lost.
// While Redis is known to be failing, hold nothing: the app gets its 503 now.
bool EventRouter::redis_failing_without_fallback() const {
  if (!settings_.needs_redis() || settings_.fallback_to_http || settings_.dual_write) return false;
  return redis_ == nullptr || redis_->ready_connections() == 0 ||
         circuit_.state() != CircuitBreaker::State::kClosed;
}

// The master switch is off (or a body could not be read with it off): the
// original HTTP bridge, byte for byte, and each event it carries counted by
// type, read leniently. A rollback must never start refusing bodies the app
// always sent.
void EventRouter::bridge_lenient(Exchange& exchange, const RouteMatch* match) {
  ForwardAccounting accounting;
  if (metrics_ != nullptr) {
    const HttpRequest& request = exchange.request();
    std::optional<RouteMatch> found;
    if (match == nullptr && (found = routes_.match(request.method, request.target())))
      match = &*found;
    if (match != nullptr) {
      const std::string& fixed = match->route->event_type;
      accounting.event = event_metrics(fixed.empty() ? peek_event_type(request.body) : fixed);
    }
  }
  bridge_.forward(exchange, {}, {}, accounting);
}

void EventRouter::circuit_changed() {
  if (circuit_gauge_ != nullptr)
    circuit_gauge_->Set(circuit_.state() == CircuitBreaker::State::kClosed ? 0 : 1);
}

// With the master switch off only coalescing needs the body: a substring
// search for the coalesced types is much cheaper than parsing every event.
bool EventRouter::mentions_coalesced_type(std::string_view body) const {
  for (const std::string& type : settings_.coalescing.event_types) {
    if (body.find(type) != std::string_view::npos) return true;
  }
  return false;
}

void EventRouter::on_request(Exchange& exchange) {
  HttpRequest& request = exchange.request();
  // Master switch off and nothing to coalesce: the original HTTP bridge,
  // untouched. With the switch off the router stays lenient: a body it
  // cannot read is forwarded as it is (a rollback must not start refusing
  // bodies the app always sent).
  bool strict = settings_.needs_redis();
  if (!strict && (!coalescer_ || !mentions_coalesced_type(request.body))) {
    bridge_lenient(exchange, nullptr);
    return;
  }
  std::optional<RouteMatch> match = routes_.match(request.method, request.target());
  if (!match) {
    ++stats_.passthrough;
    bridge_.forward(exchange, {});
    return;
  }
  const Route& route = *match->route;
  EventFields fields;
  std::string error_field, detail;
  bool ok = read_event_fields(request.body, &fields, &error_field, &detail);
  if (ok && !route.event_type.empty()) fields.event_type = route.event_type;
  if (ok && !match->room_id.empty()) fields.room_id = std::string(match->room_id);
  if (ok && fields.event_type.empty()) {
    ok = false;
    error_field = "event_type";
    detail = "the event has no event_type";
  }
  if (ok && fields.room_id.empty()) {
    ok = false;
    error_field = "room_id";
    detail = "the event has no room_id";
  }
  if (fields.event_id.empty()) {
    auto header = request.headers.find("x-event-id");
    fields.event_id = header && !header->empty() ? std::string(*header) : ids_.uuid4();
  }
  if (ok) ok = check_contract(fields, request, &error_field, &detail);
  if (!ok && !strict) {
    bridge_lenient(exchange, &*match);
    return;
  }
  if (!ok) {
    ++stats_.bad_events;
    if (metrics_ != nullptr) metrics_->bad_events.Increment();
    std::string body = "{\"error\":\"invalid_event\",\"field\":";
    append_json_string(body, error_field);
    body += ",\"detail\":";
    append_json_string(body, detail);
    body += '}';
    log_line(LogLevel::kWarn, "event rejected",
             {{"field", error_field}, {"detail", detail}, {"route", route.pattern}});
    exchange.respond_json(400, std::move(body));
    return;
  }

  EventTypeMetrics* type_metrics = event_metrics(fields.event_type);
  if (coalescer_ && settings_.coalescing.applies_to(fields.event_type) &&
      !redis_failing_without_fallback()) {
    std::string key = fields.room_id;
    key += '\x1f';
    key += fields.user_id;
    auto decision = coalescer_->offer(key, fields.event_type, uv_now(loop_), [&] {
      HeldEvent h;
      h.stream = route.stream;
      h.event_id = fields.event_id;
      h.event_type = fields.event_type;
      h.room_id = fields.room_id;
      h.user_id = fields.user_id;
      h.has_user_id = fields.has_user_id;
      h.ts_ms = wall_clock_ms();
      h.method = std::string(request.method);
      h.path = std::string(request.target());
      h.content_type = std::string(request.headers.find("content-type").value_or(""));
      h.body = request.body;
      h.upstream_head = bridge_.upstream_head(request, exchange.client_ip(), fields.event_id);
      return h;
    });
    arm_coalesce_timer();
    using Decision = Coalescer<HeldEvent>::Decision;
    if (decision == Decision::kPassThrough && metrics_ != nullptr)
      metrics_->coalescer_overflow.Increment();
    if (decision == Decision::kHeld || decision == Decision::kDropped) {
      std::string body = "{\"status\":\"coalesced\",\"event_id\":";
      append_json_string(body, fields.event_id);
      body += '}';
      exchange.respond_json(202, std::move(body), "X-Event-Id: " + fields.event_id + "\r\n");
      return;
    }
  }
  bool to_redis = rollout_.use_redis(fields.room_id);
  StreamEntry entry{route.stream,      fields.event_id,
                    fields.event_type, fields.room_id,
                    fields.user_id,    fields.has_user_id,
                    wall_clock_ms(),   request.method,
                    request.target(),  request.headers.find("content-type").value_or(""),
                    request.body};
  if (settings_.dual_write && redis_ != nullptr) {
    publish_entry(*redis_, entry, settings_.stream_max_len, settings_.publish_timeout_ms,
                  on_shadow_published, this);
    to_redis = false;  // the app gets the HTTP answer
  }
  if (!to_redis || redis_ == nullptr) {
    ++stats_.http_routed;
    forward_http(exchange, fields.event_id, type_metrics, settings_.dual_write);
    return;
  }
  uint64_t now = uv_now(loop_);
  CircuitBreaker::Decision decision = circuit_.decide(now);
  if (decision == CircuitBreaker::Decision::kReject) {
    if (type_metrics != nullptr) type_metrics->redis_failure->Increment();
    fallback(exchange, fields.event_id, FallbackReason::kCircuitOpen, "the Redis circuit is open",
             type_metrics);
    return;
  }
  auto* publish = new Publish{this,
                              &exchange,
                              fields.event_id,
                              route.stream,
                              decision == CircuitBreaker::Decision::kProbe,
                              type_metrics,
                              uv_hrtime()};
  publish_entry(*redis_, entry, settings_.stream_max_len, settings_.publish_timeout_ms,
                on_published, publish);
}

void EventRouter::on_published(void* data, const RedisResult& result) {
  std::unique_ptr<Publish> publish(static_cast<Publish*>(data));
  EventRouter* router = publish->router;
  Exchange& exchange = *publish->exchange;
  bool stored = result.status == RedisStatus::kOk && result.reply != nullptr &&
                result.reply->type == REDIS_REPLY_STRING;
  if (EventTypeMetrics* m = publish->metrics) {
    m->publish_redis->Observe(static_cast<double>(uv_hrtime() - publish->started_ns) / 1e9);
    (stored ? m->redis_success : m->redis_failure)->Increment();
  }
  CircuitBreaker::State circuit_before = router->circuit_.state();
  if (stored) {
    router->circuit_.record_success();
    if (router->circuit_.state() != circuit_before) router->circuit_changed();
    ++router->stats_.redis_published;
    std::string body = "{\"status\":\"accepted\",\"transport\":\"redis_streams\",\"stream\":";
    append_json_string(body, publish->stream);
    body += ",\"id\":";
    append_json_string(body, std::string_view(result.reply->str, result.reply->len));
    body += ",\"event_id\":";
    append_json_string(body, publish->event_id);
    body += '}';
    exchange.respond_json(router->settings_.ack_status, std::move(body),
                          event_headers("redis_streams", publish->event_id));
    return;
  }
  ++router->stats_.redis_failed;
  // Refusals before anything was sent (kNotConnected, kOverloaded) also count:
  // they are what keeps the circuit open while Redis is away.
  router->circuit_.record_failure(uv_now(router->loop_));
  if (router->circuit_.state() != circuit_before) router->circuit_changed();
  std::string detail(redis_status_name(result.status));
  if (result.status == RedisStatus::kErrorReply) (detail += ": ") += result.error;
  router->fallback(exchange, publish->event_id, reason_for(result.status), detail,
                   publish->metrics);
}

void EventRouter::on_detached_published(void* data, const RedisResult& result) {
  std::unique_ptr<DetachedPublish> d(static_cast<DetachedPublish*>(data));
  EventRouter* router = d->router;
  bool stored = result.status == RedisStatus::kOk;
  if (EventTypeMetrics* m = router->event_metrics(d->event.event_type)) {
    m->publish_redis->Observe(static_cast<double>(uv_hrtime() - d->started_ns) / 1e9);
    (stored ? m->redis_success : m->redis_failure)->Increment();
  }
  CircuitBreaker::State before = router->circuit_.state();
  if (stored) {
    router->circuit_.record_success();
    ++router->stats_.redis_published;
  } else {
    router->circuit_.record_failure(uv_now(router->loop_));
    ++router->stats_.redis_failed;
    router->held_redis_failed(std::move(d->event), reason_for(result.status));
  }
  if (router->circuit_.state() != before) router->circuit_changed();
  router->detached_done();
}

void EventRouter::on_shadow_published(void* data, const RedisResult& result) {
  auto* router = static_cast<EventRouter*>(data);
  bool ok = result.status == RedisStatus::kOk;
  if (ProxyMetrics* m = router->metrics_)
    (ok ? m->dual_write_success_redis : m->dual_write_failure_redis)->Increment();
  if (ok) {
    ++router->stats_.dual_write_success;
  } else {
    ++router->stats_.dual_write_failure;
    if (log_enabled(LogLevel::kDebug)) {
      log_line(LogLevel::kDebug, "dual write to Redis failed",
               {{"error", redis_status_name(result.status)}});
    }
  }
}

void EventRouter::fallback(Exchange& exchange, const std::string& event_id, FallbackReason reason,
                           std::string_view detail, EventTypeMetrics* type_metrics) {
  if (!settings_.fallback_to_http) {
    ++stats_.refused_503;
    if (metrics_ != nullptr) metrics_->refused_503.Increment();
    std::string body = "{\"error\":\"redis_unavailable\",\"reason\":";
    append_json_string(body, fallback_reason_name(reason));
    body += ",\"detail\":";
    append_json_string(body, detail);
    body += ",\"event_id\":";
    append_json_string(body, event_id);
    body += '}';
    exchange.respond_json(503, std::move(body), event_headers("redis_streams", event_id));
    return;
  }
  count_fallback(reason);
  if (log_enabled(LogLevel::kDebug)) {
    log_line(
        LogLevel::kDebug, "event falls back to HTTP",
        {{"reason", fallback_reason_name(reason)}, {"detail", detail}, {"event_id", event_id}});
  }
  forward_http(exchange, event_id, type_metrics, false);
}

void EventRouter::forward_http(Exchange& exchange, const std::string& event_id,
                               EventTypeMetrics* event, bool dual_write) {
  ForwardAccounting accounting;
  accounting.event = event;
  if (dual_write && metrics_ != nullptr) {
    accounting.on_success = metrics_->dual_write_success_http;
    accounting.on_failure = metrics_->dual_write_failure_http;
  }
  bridge_.forward(exchange, event_headers("http", event_id), event_id, accounting);
}

}  // namespace streamshift
