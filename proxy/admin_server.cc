// The admin listener; see admin_server.h.
#include "proxy/admin_server.h"

#include <cstdio>

#include "core/json.h"
#include "core/log.h"
#include "core/loop.h"

namespace streamshift {
namespace {

constexpr uint64_t kStalledAfterMs = 5000;

std::string_view stream_status(const StreamLag& s) {
  if (s.failed) return "unhealthy";
  if (!s.lag) return "degraded";  // unknown lag: never reported as healthy
  if (*s.lag > 1000) return "unhealthy";
  if (*s.lag >= 100 || s.trimmed_unread) return "degraded";
  return "healthy";
}

void append_consumers(std::string& out, const StreamLag& s) {
  out += "\"consumers\":[";
  for (size_t i = 0; i < s.consumers.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(out, s.consumers[i]);
  }
  out += ']';
}

std::string transport_mode(const TransportSettings& t) {
  if (!t.use_redis_streams) return "http";
  if (t.dual_write) return "dual_write";
  if (t.redis_percentage >= 100) return "redis_streams";
  if (t.redis_percentage <= 0) return "http";
  return "mixed";
}

}  // namespace

bool constant_time_equals(std::string_view a, std::string_view b) {
  size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

AdminServer::AdminServer(const AdminSettings& admin, const TransportSettings& transport,
                         Registry& registry, ProxyMetrics& metrics,
                         std::vector<const WorkerHealth*> workers,
                         const std::atomic<bool>& draining)
    : admin_(admin),
      transport_(transport),
      registry_(registry),
      metrics_(metrics),
      workers_(std::move(workers)),
      draining_(draining) {
  uv_loop_init(&loop_);
  uv_async_init(&loop_, &wake_, on_wake);
  wake_.data = this;
  ServerOptions options;
  options.listen = admin.listen;
  options.reuse_port = false;
  options.limits.max_body_bytes = 0;
  server_ = std::make_unique<HttpServer>(&loop_, options, *this);
  RedisOptions redis;
  redis.name = "admin";
  redis.endpoint = transport.redis;
  redis.connections = 1;
  redis.connect_timeout_ms = transport.redis_connect_timeout_ms;
  lag_ = std::make_unique<LagMonitor>(&loop_, redis, admin.streams, admin.consumer_group,
                                      admin.cache_ms,
                                      std::max<uint64_t>(transport.redis_connect_timeout_ms, 1000));
}

AdminServer::~AdminServer() {
  if (!served_) {
    // Never served (the port was taken): close what the constructor opened.
    stop_requested_ = true;
    on_wake(&wake_);
    uv_run(&loop_, UV_RUN_DEFAULT);
  }
  join();
  close_loop(&loop_);
}

int AdminServer::start() {
  int rc = server_->start();
  if (rc != 0) return rc;
  lag_->start();
  served_ = true;
  thread_ = std::thread([this] {
    set_metrics_shard(0);
    uv_run(&loop_, UV_RUN_DEFAULT);
  });
  return 0;
}

void AdminServer::stop() {
  stop_requested_ = true;
  uv_async_send(&wake_);
}

void AdminServer::join() {
  if (thread_.joinable()) thread_.join();
}

void AdminServer::on_wake(uv_async_t* handle) {
  auto* self = static_cast<AdminServer*>(handle->data);
  if (!self->stop_requested_ || self->stopped_) return;
  self->stopped_ = true;
  self->server_->drain([] {});
  self->server_->close_all("admin stopping");
  self->lag_->shutdown(
      [self] { close_handle(reinterpret_cast<uv_handle_t*>(&self->wake_), nullptr); });
}

void AdminServer::on_request(Exchange& exchange) {
  HttpRequest& request = exchange.request();
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  if (request.method != "GET") {
    exchange.respond_json(
        405, json_error_body("method_not_allowed", "the admin listener answers GET only"));
    return;
  }
  if (path == "/metrics") {
    serve_metrics(exchange);
  } else if (path == "/healthz") {
    uint64_t now = uv_hrtime() / 1000000;
    for (size_t i = 0; i < workers_.size(); ++i) {
      uint64_t beat = workers_[i]->heartbeat_ms.load();
      if (beat == 0 || now - beat > kStalledAfterMs) {
        exchange.respond_json(503, "{\"status\":\"stalled\",\"worker\":" + std::to_string(i) + "}");
        return;
      }
    }
    exchange.respond_json(200, "{\"status\":\"ok\"}");
  } else if (path == "/readyz") {
    // Ready means "this sidecar takes requests". Redis is deliberately not
    // part of it: a native sidecar's readiness is the app pod's, and a Redis
    // outage must never take the app's own endpoints out of its Service.
    // Redis state is in /api/v1/events/health, the metrics and the alerts.
    bool listening = true;
    for (const WorkerHealth* w : workers_) listening = listening && w->listening.load();
    std::string_view why = draining_.load() ? "draining" : !listening ? "not_listening" : "";
    std::string body = "{\"status\":";
    append_json_string(body, why.empty() ? "ready" : why);
    body += ",\"redis_connected\":";
    body += metrics_.redis_connections_ready.Value() > 0 ? "true" : "false";
    body += '}';
    exchange.respond_json(why.empty() ? 200 : 503, std::move(body));
  } else if (path.substr(0, 15) == "/api/v1/events/") {
    if (authorized(exchange)) serve_events(exchange, path.substr(15));
  } else {
    exchange.respond_json(404, json_error_body("not_found", "no such admin endpoint"));
  }
}

void AdminServer::serve_metrics(Exchange& exchange) {
  Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = registry_.Serialize();
  exchange.respond(std::move(r));
}

bool AdminServer::authorized(Exchange& exchange) {
  if (admin_.token.empty()) {
    exchange.respond_json(
        403,
        json_error_body("forbidden", "STREAMSHIFT_ADMIN_TOKEN is not set: the events API is off"));
    return false;
  }
  std::string_view given = exchange.request().headers.find("authorization").value_or("");
  bool bearer = given.size() > 7 && iequals(given.substr(0, 7), "bearer ");
  if (!bearer || !constant_time_equals(given.substr(7), admin_.token)) {
    exchange.respond_json(401, json_error_body("unauthorized", "a valid bearer token is required"),
                          "WWW-Authenticate: Bearer realm=\"streamshift\"\r\n");
    return false;
  }
  return true;
}

void AdminServer::serve_events(Exchange& exchange, std::string_view endpoint) {
  if (endpoint != "consumer-lag" && endpoint != "streams" && endpoint != "health") {
    exchange.respond_json(404, json_error_body("not_found", "no such events endpoint"));
    return;
  }
  std::string which(endpoint);
  Exchange* ex = &exchange;
  lag_->get([this, ex, which](const LagSnapshot& snap) {
    std::string body;
    const std::string& group = lag_->group();
    int64_t total = 0, max_lag = 0;
    for (const StreamLag& s : snap.streams) {
      if (s.lag && *s.lag > 0) {
        total += *s.lag;
        max_lag = std::max(max_lag, *s.lag);
      }
    }
    if (which == "consumer-lag") {
      body = "{\"streams\":{";
      for (size_t i = 0; i < snap.streams.size(); ++i) {
        const StreamLag& s = snap.streams[i];
        if (i > 0) body += ',';
        append_json_string(body, s.name);
        body += ":{\"lag\":";
        if (s.failed) {
          body += "-1,\"error\":";
          append_json_string(body, s.error);
        } else if (!s.lag) {
          body += "null,\"lag_unknown\":";
          append_json_string(body, s.lag_unknown_reason);
        } else {
          body += std::to_string(*s.lag);
        }
        body += ',';
        append_consumers(body, s);
        body += ",\"trimmed_unread\":";
        body += s.trimmed_unread ? "true" : "false";
        body += '}';
      }
      body += "},\"total_lag\":" + std::to_string(total) +
              ",\"stream_count\":" + std::to_string(snap.streams.size()) + "}";
    } else if (which == "streams") {
      body = "{\"streams\":[";
      for (size_t i = 0; i < snap.streams.size(); ++i) {
        const StreamLag& s = snap.streams[i];
        if (i > 0) body += ',';
        body += "{\"name\":";
        append_json_string(body, s.name);
        body += ",\"length\":" + std::to_string(s.length) +
                ",\"groups\":" + std::to_string(s.groups) + ",\"consumer_group\":";
        append_json_string(body, group);
        if (s.failed) {
          body += ",\"error\":";
          append_json_string(body, s.error);
        }
        body += '}';
      }
      body += "]}";
    } else {
      int healthy = 0, degraded = 0, unhealthy = 0;
      for (const StreamLag& s : snap.streams) {
        std::string_view st = stream_status(s);
        healthy += st == "healthy";
        degraded += st == "degraded";
        unhealthy += st == "unhealthy";
      }
      std::string_view status = unhealthy > 0 ? "unhealthy" : degraded > 0 ? "degraded" : "healthy";
      body = "{\"status\":\"" + std::string(status) +
             "\",\"redis_connected\":" + (snap.redis_connected ? "true" : "false") +
             ",\"transport_mode\":\"" + transport_mode(transport_) +
             "\",\"streams\":{\"healthy\":" + std::to_string(healthy) +
             ",\"degraded\":" + std::to_string(degraded) +
             ",\"unhealthy\":" + std::to_string(unhealthy) +
             "},\"max_lag\":" + std::to_string(max_lag) +
             ",\"total_lag\":" + std::to_string(total) + ",\"consumer_group\":";
      append_json_string(body, group);
      body += '}';
    }
    ex->respond_json(200, std::move(body));
  });
}

}  // namespace streamshift
