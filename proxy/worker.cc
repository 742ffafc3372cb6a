// A sidecar worker thread; see worker.h.
#include "proxy/worker.h"

#include "core/log.h"
#include "core/loop.h"
#include "core/redis_client_factory.h"

namespace streamshift {

Worker::Worker(const ProxySettings& settings, const RouteTable& routes, ProxyMetrics& metrics,
               int index, IngressBudgets& budgets, SnapshotHub<TransportSettings>& runtime)
    : settings_(settings), metrics_(metrics), index_(index) {
  uv_loop_init(&loop_);
  uv_async_init(&loop_, &wake_, on_wake);
  wake_.data = this;
  uv_timer_init(&loop_, &drain_timer_);
  drain_timer_.data = this;
  uv_timer_init(&loop_, &heartbeat_);
  heartbeat_.data = this;
  runtime_ = std::make_unique<SnapshotSlot<TransportSettings>>(
      &loop_, runtime,
      [this](const TransportSettings&, const TransportSettings& after) { use(after); });

  UpstreamOptions upstream;
  upstream.host = settings.upstream.host;
  upstream.port = settings.upstream.port;
  upstream.connect_timeout_ms = settings.upstream_connect_timeout_ms;
  upstream.request_timeout_ms = settings.upstream_timeout_ms;
  upstream.max_connections = settings.upstream_pool_size;
  upstream.max_response_bytes = settings.max_response_bytes;
  pool_ = std::make_unique<UpstreamPool>(&loop_, upstream);
  bridge_ = std::make_unique<HttpBridge>(*pool_, settings.upstream, &metrics);
  const TransportSettings& transport = runtime_->current();
  make_redis(transport);
  clock_ = std::make_unique<LoopClock>(&loop_);
  accounting_ = std::make_unique<EventAccounting>(metrics, index);
  links_ = std::make_unique<LiveLinks>(redis_.get(), *bridge_, transport);
  sender_ = std::make_unique<EventSenderImpl>(transport, *clock_, *links_, *accounting_);
  router_ = std::make_unique<EventRouter>(routes, transport, *sender_, *links_, *accounting_,
                                          *clock_, settings.capture_headers);

  ServerOptions server;
  server.listen = settings.listen;
  server.reuse_port = true;
  server.limits.max_header_bytes = settings.max_header_bytes;
  server.limits.max_body_bytes = settings.max_body_bytes;
  server.client_timeout_ms = settings.client_timeout_ms;
  server.idle_timeout_ms = settings.idle_timeout_ms;
  server.observer = &metrics;
  server.connections = &budgets.connections;
  server.body_bytes = &budgets.body_bytes;
  server_ = std::make_unique<HttpServer>(&loop_, server, *router_);
}

void Worker::make_redis(const TransportSettings& transport) {
  if (redis_ || !transport.needs_redis()) return;
  RedisOptions redis;
  redis.name = "events";
  redis.endpoint = transport.redis;
  redis.tls = transport.redis_tls;
  redis.connections = transport.redis_connections_per_worker(settings_.workers);
  redis.connect_timeout_ms = transport.redis_connect_timeout_ms;
  Gauge* ready = &metrics_.redis_connections_ready;
  redis.on_ready_change = [ready](int delta) { ready->Increment(delta); };
  redis.primary_status = metrics_.redis_primary;
  redis_ = make_redis_client(&loop_, redis);
}

// On the loop, between two callbacks: the links and the sender first, so that what the
// router sends on a coalescing change goes by the new values. Redis, first needed now,
// connects; until it is ready its events fall back (or are refused) as on any outage.
void Worker::use(const TransportSettings& transport) {
  if (!redis_ && transport.needs_redis() && !draining_) {
    make_redis(transport);
    redis_->start();
    links_->use_redis(redis_.get());
  }
  links_->use(transport);
  sender_->use(transport);
  router_->use(transport);
}

Worker::~Worker() {
  join();
  runtime_->close({});  // detached from the hub before the loop goes
  close_loop(&loop_);
}

int Worker::start() {
  int rc = server_->start();
  if (rc != 0) return rc;
  health_.listening = true;
  if (redis_) redis_->start();
  on_heartbeat(&heartbeat_);
  uv_timer_start(&heartbeat_, on_heartbeat, 1000, 1000);
  thread_ = std::thread([this] {
    set_metrics_shard(index_ + 1);
    uv_run(&loop_, UV_RUN_DEFAULT);
  });
  return 0;
}

void Worker::request_drain() {
  drain_requested_.store(true);
  uv_async_send(&wake_);
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::on_wake(uv_async_t* handle) {
  auto* w = static_cast<Worker*>(handle->data);
  if (w->drain_requested_.load()) w->begin_drain();
}

void Worker::on_heartbeat(uv_timer_t* timer) {
  auto* w = static_cast<Worker*>(timer->data);
  w->health_.heartbeat_ms.store(uv_hrtime() / 1000000);
}

void Worker::begin_drain() {
  if (draining_) return;
  draining_ = true;
  health_.listening = false;
  log_line(LogLevel::kInfo, "worker draining",
           {{"worker", index_}, {"connections", server_->connection_count()}});
  uv_timer_start(&drain_timer_, on_drain_timeout, settings_.drain_timeout_ms, 0);
  // Held typing events leave now; the clients close only after they are sent.
  router_->flush([this] {
    router_idle_ = true;
    if (server_drained_) finish();
  });
  server_->drain([this] {
    server_drained_ = true;
    if (router_idle_) finish();
  });
}

void Worker::on_drain_timeout(uv_timer_t* timer) {
  auto* w = static_cast<Worker*>(timer->data);
  log_line(LogLevel::kWarn, "drain timeout: closing connections with requests in flight",
           {{"worker", w->index_}, {"connections", w->server_->connection_count()}});
  w->router_idle_ = true;  // held events still in flight are given up
  w->pool_->shutdown([] {});
  w->server_->close_all("drain timeout");
  if (w->redis_) w->redis_->close_now();
  if (w->server_drained_) w->finish();
}

void Worker::finish() {
  if (finished_) return;
  finished_ = true;
  // Shadow copies may still be in flight to Redis: the drain timer keeps
  // bounding the wait until both clients have closed.
  closing_parts_ = redis_ ? 2 : 1;
  pool_->shutdown([this] { closed_one(); });
  if (redis_) redis_->shutdown([this] { closed_one(); });
}

void Worker::closed_one() {
  if (--closing_parts_ > 0) return;
  runtime_->close({});
  close_handle(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
  close_handle(reinterpret_cast<uv_handle_t*>(&drain_timer_), nullptr);
  close_handle(reinterpret_cast<uv_handle_t*>(&heartbeat_), nullptr);
}

}  // namespace streamshift
