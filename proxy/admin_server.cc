// The sidecar's admin listener; see admin_server.h.
#include "proxy/admin_server.h"

#include <algorithm>

#include "core/loop.h"

namespace streamshift {
namespace {

RedisOptions lag_redis_options(const TransportSettings& transport,
                               std::shared_ptr<RedisPrimaryStatus> primary) {
  RedisOptions redis;
  redis.name = "admin";
  redis.endpoint = transport.redis;
  redis.tls = transport.redis_tls;
  redis.connections = 1;
  redis.connect_timeout_ms = transport.redis_connect_timeout_ms;
  redis.primary_status = std::move(primary);
  return redis;
}

}  // namespace

AdminServer::AdminServer(const AdminSettings& admin, const TransportSettings& transport,
                         Registry& registry, ProxyMetrics& metrics,
                         std::vector<const WorkerHealth*> workers,
                         const std::atomic<bool>& draining, const MakeRuntime& runtime)
    : metrics_(metrics), workers_(std::move(workers)), draining_(draining) {
  uv_loop_init(&loop_);
  uv_async_init(&loop_, &wake_, on_wake);
  wake_.data = this;
  listener_ = std::make_unique<AdminListener>(
      &loop_, admin.listen, registry,
      [this] {
        return sidecar_readiness(workers_, draining_.load(),
                                 metrics_.redis_connections_ready.Value() > 0);
      },
      [this] { return workers_liveness(workers_, uv_hrtime() / 1000000); });
  uint64_t lookup_timeout_ms = std::max<uint64_t>(transport.redis_connect_timeout_ms, 1000);
  StreamShards streams(admin.streams, admin.stream_shards);
  lag_ = std::make_unique<LagMonitor>(&loop_, lag_redis_options(transport, metrics.redis_primary),
                                      streams, admin.consumer_group, admin.cache_ms,
                                      lookup_timeout_ms);
  inspection_ = std::make_unique<StreamInspection>(
      lag_->redis(), ReadableStreams(std::move(streams), admin.dlq_stream), admin.consumer_group,
      lookup_timeout_ms);
  events_ = std::make_unique<EventsApi>(admin.token, transport_mode(transport), *lag_,
                                        metrics.redis_primary, inspection_.get());
  listener_->router().add_prefix("/api/v1/events/",
                                 [this](Exchange& exchange, std::string_view endpoint) {
                                   events_->serve(exchange, endpoint);
                                 });
  runtime_ = runtime(&loop_);
  runtime_->add_routes(listener_->router());
}

void AdminServer::transport_changed(const TransportSettings& transport) {
  events_->set_transport_mode(transport_mode(transport));
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
  int rc = listener_->start();
  if (rc != 0) return rc;
  lag_->start();
  runtime_->start();
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
  self->listener_->close("admin stopping", [] {});
  self->runtime_->close([self] {
    self->lag_->shutdown(
        [self] { close_handle(reinterpret_cast<uv_handle_t*>(&self->wake_), nullptr); });
  });
}

}  // namespace streamshift
