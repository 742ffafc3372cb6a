// Reading the sidecar's environment; see proxy_settings.h.
#include "proxy/proxy_settings.h"

#include "core/runtime_control.h"
#include "core/stream_shards.h"
#include "core/upstream_settings.h"

namespace streamshift {

ProxySettings load_proxy_settings(EnvReader& env) {
  ProxySettings s;
  s.listen = env.host_port("STREAMSHIFT_LISTEN", "127.0.0.1:15001",
                           "ingress address (where the app's SignalR base URL points)");

  s.workers = static_cast<int>(env.integer("STREAMSHIFT_WORKERS", 1, 1, 64,
                                           "event-loop threads sharing the port (SO_REUSEPORT)"));

  if (auto url = env.http_url("STREAMSHIFT_UPSTREAM_URL", "http://127.0.0.1:5000",
                              "the SignalR internal API (the HTTP bridge target)"))
    s.upstream = *url;

  s.upstream_connect_timeout_ms = static_cast<uint64_t>(env.integer(
      "STREAMSHIFT_UPSTREAM_CONNECT_TIMEOUT_MS", 1000, 1, 60000, "upstream connect timeout"));
  s.upstream_timeout_ms = static_cast<uint64_t>(
      env.integer("STREAMSHIFT_UPSTREAM_TIMEOUT_MS", 10000, 1, 600000,
                  "time for the upstream's complete response, from the request's arrival"));
  s.upstream_pool_size = static_cast<size_t>(env.integer("STREAMSHIFT_UPSTREAM_POOL_SIZE", 64, 1,
                                                         10000, "upstream connections per worker"));
  s.max_response_bytes = load_max_response_bytes(env);
  s.max_header_bytes = static_cast<size_t>(env.integer(
      "STREAMSHIFT_MAX_HEADER_BYTES", 16384, 256, 1048576, "request line + headers limit (431)"));
  s.max_body_bytes = static_cast<size_t>(
      env.integer("STREAMSHIFT_MAX_BODY_BYTES", 1048576, 0, 67108864, "request body limit (413)"));
  s.client_timeout_ms = static_cast<uint64_t>(
      env.integer("STREAMSHIFT_CLIENT_TIMEOUT_MS", 10000, 10, 600000,
                  "time for a client to send a whole request once it started (408)"));
  s.idle_timeout_ms = static_cast<uint64_t>(env.integer(
      "STREAMSHIFT_IDLE_TIMEOUT_MS", 60000, 10, 3600000, "keep-alive idle time before closing"));
  s.drain_timeout_ms =
      static_cast<uint64_t>(env.integer("STREAMSHIFT_DRAIN_TIMEOUT_MS", 15000, 0, 600000,
                                        "on SIGTERM, time to finish requests in flight"));
  s.max_connections = static_cast<uint64_t>(
      env.integer("STREAMSHIFT_MAX_CONNECTIONS", 10000, 0, 1000000,
                  "open client connections, all workers; above it a new one is closed at once "
                  "(0: no limit)"));
  s.body_budget_bytes = static_cast<uint64_t>(
      env.integer("STREAMSHIFT_BODY_BUDGET_BYTES", 256 << 20, 0, int64_t{1} << 40,
                  "request body bytes all requests in flight may hold together, all workers; "
                  "past it 503 (0: no limit)"));

  std::string level =
      env.choice("LOG_LEVEL", "info", {"debug", "info", "warn", "warning", "error"}, "log level");
  parse_log_level(level, &s.log_level);
  s.transport = load_transport_settings(env);
  s.admin = load_admin_settings(env);
  s.runtime_dir = load_runtime_dir_setting(env);
  s.capture_headers = load_capture_headers(env);
  s.admin.stream_shards = s.transport.stream_shards;
  check_shardable(env, s.transport.stream_shards, s.admin.streams);
  return s;
}

}  // namespace streamshift
