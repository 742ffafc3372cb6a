// The sidecar program; see proxy_main.h.
#include "proxy/proxy_main.h"

#include <sys/resource.h>
#include <uv.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/config_report.h"
#include "core/ingress_budget_gauges.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/process_runner.h"
#include "core/stream_settings.h"
#include "core/stream_shards.h"
#include "proxy/admin_server.h"
#include "proxy/proxy_metrics.h"
#include "proxy/proxy_settings.h"
#include "proxy/routes.h"
#include "proxy/worker.h"

namespace streamshift {
namespace {

std::string address(const HostPort& at) {
  return at.host + ":" + std::to_string(at.port);
}

// The built-in routes, or those of STREAMSHIFT_ROUTES_FILE (an error is
// recorded against that variable).
RouteTable read_routes(const ProxySettings& settings, EnvReader& env) {
  if (settings.transport.routes_file.empty()) return RouteTable::defaults();
  std::string why;
  if (auto table = RouteTable::load_file(settings.transport.routes_file, &why)) return *table;
  env.reject("STREAMSHIFT_ROUTES_FILE", settings.transport.routes_file,
             "a readable YAML or JSON route table: " + why);
  return RouteTable::defaults();
}

// The routes, each stream split into its shards (EVENT_TRANSPORT_STREAM_SHARDS).
RouteTable load_routes(const ProxySettings& settings, EnvReader& env) {
  RouteTable routes = read_routes(settings, env);
  std::vector<std::string> streams;
  for (const Route& r : routes.routes()) streams.push_back(r.stream);
  check_shardable(env, settings.transport.stream_shards, streams);
  routes.split_streams(settings.transport.stream_shards);
  return routes;
}

std::string decision(const TransportSettings& t) {
  if (!t.use_redis_streams)
    return "every event over HTTP (EVENT_TRANSPORT_USE_REDIS_STREAMS=false)";
  if (t.dual_write) return "every event over HTTP, plus a shadow copy in Redis Streams";
  return "Redis Streams for " + std::to_string(t.redis_percentage) + "% of events by " +
         (t.rollout_key == RolloutKey::kRoom ? "room" : "random draw") +
         (t.fallback_to_http ? ", HTTP fallback on failure" : ", 503 on failure");
}

// Past the open-file limit, accept() fails before the connection cap is
// reached; libuv then sheds connections itself, uncounted.
void warn_if_fds_below_connection_cap(uint64_t max_connections) {
  constexpr uint64_t kOwnDescriptors = 256;  // Redis, upstream pool, internals
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return;
  uint64_t room = limit.rlim_cur > kOwnDescriptors ? limit.rlim_cur - kOwnDescriptors : 0;
  if (max_connections != 0 && max_connections <= room) return;
  log_line(LogLevel::kWarn,
           "the open-file limit is below STREAMSHIFT_MAX_CONNECTIONS: connections beyond it are "
           "shed by the kernel and libuv, not counted",
           {{"max_connections", max_connections},
            {"open_file_limit", static_cast<uint64_t>(limit.rlim_cur)}});
}

// The workers, each on its own thread and loop, and the admin listener on
// another; the main loop only watches the signals.
class Sidecar final : public Program {
 public:
  Sidecar(const ProxySettings& settings, const RouteTable& routes)
      : settings_(settings),
        routes_(routes),
        metrics_(registry_, settings.transport, settings.workers),
        budgets_{SharedBudget(settings.max_connections), SharedBudget(settings.body_budget_bytes)} {
    registry_.Attach(std::make_shared<IngressBudgetGauges>(budgets_));
    std::vector<const WorkerHealth*> health;
    for (int i = 0; i < settings.workers; ++i) {
      workers_.push_back(std::make_unique<Worker>(settings, routes, metrics_, i, budgets_));
      health.push_back(&workers_.back()->health());
    }
    admin_ = std::make_unique<AdminServer>(settings.admin, settings.transport, registry_, metrics_,
                                           health, draining_);
  }

  bool start() override {
    if (int rc = admin_->start(); rc != 0) {
      log_line(LogLevel::kError, "cannot listen (admin)",
               {{"address", address(settings_.admin.listen)}, {"error", uv_error_text(rc)}});
      return false;
    }
    for (auto& worker : workers_) {
      if (int rc = worker->start(); rc != 0) {
        log_line(LogLevel::kError, "cannot listen",
                 {{"address", address(settings_.listen)}, {"error", uv_error_text(rc)}});
        return false;
      }
    }
    const TransportSettings& t = settings_.transport;
    log_line(LogLevel::kInfo, "listening",
             {{"address", address(settings_.listen)},
              {"workers", settings_.workers},
              {"upstream", address({settings_.upstream.host, settings_.upstream.port}) +
                               settings_.upstream.path_prefix},
              {"transport", !t.use_redis_streams ? "http"
                            : t.dual_write       ? "dual_write"
                                                 : "redis_streams"},
              {"redis_percentage", t.redis_percentage},
              {"routes", routes_.routes().size()},
              {"admin", address(settings_.admin.listen)},
              {"version", STREAMSHIFT_VERSION}});
    return true;
  }

  void begin_drain() override {
    draining_.store(true);  // /readyz answers 503 from now on
    metrics_.draining.Set(1);
    for (auto& worker : workers_) worker->request_drain();
  }

  void finish(Ending ending) override {
    // After a run every worker was asked to drain; after a failed start,
    // those that started are asked now.
    if (ending == Ending::kFailedStart) {
      for (auto& worker : workers_) worker->request_drain();
    }
    TransportStats totals;
    for (auto& worker : workers_) {
      worker->join();
      totals.add(worker->stats());
    }
    if (ending == Ending::kRan) {
      log_line(LogLevel::kInfo, "transport totals", {LogField::json("events", totals.to_json())});
    }
    admin_->stop();
    admin_->join();
    workers_.clear();
  }

 private:
  const ProxySettings& settings_;
  const RouteTable& routes_;
  Registry registry_;
  ProxyMetrics metrics_;
  std::atomic<bool> draining_{false};
  IngressBudgets budgets_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<AdminServer> admin_;
};

}  // namespace

int check_proxy_config(bool strict) {
  EnvReader env;
  ProxySettings settings = load_proxy_settings(env);
  RouteTable routes = load_routes(settings, env);
  check_unknown_variables(env, strict);
  print_configuration(env, "proxy");
  std::printf("routes (%s):\n",
              settings.transport.routes_file.empty() ? "built-in" : "from STREAMSHIFT_ROUTES_FILE");
  for (const Route& r : routes.routes()) {
    std::string shards = r.shards.size() > 1
                             ? " (" + std::to_string(r.shards.size()) +
                                   " shards: " + r.shards.front() + " .. " + r.shards.back() + ")"
                             : "";
    std::printf("  %s %s -> %s%s%s%s\n", r.method.c_str(), r.pattern.c_str(), r.stream.c_str(),
                shards.c_str(), r.event_type.empty() ? "" : " event_type=", r.event_type.c_str());
  }
  std::printf("decision: %s\n", decision(settings.transport).c_str());
  std::printf(
      "redis tls: %s\n",
      redis_tls_summary(settings.transport.redis, settings.transport.redis_tls.get()).c_str());
  return configuration_status(env);
}

int run_proxy() {
  EnvReader env;
  ProxySettings settings = load_proxy_settings(env);
  RouteTable routes = load_routes(settings, env);
  if (!env.ok()) return refuse_to_start(env, "streamshift");
  prepare_process(settings.log_level);
  warn_if_redis_tls_unverified(settings.transport.redis_tls.get());
  for (const std::string& name : unknown_variables(env)) {
    log_line(LogLevel::kWarn, "variable set but not used (a typo?)", {{"variable", name}});
  }
  warn_if_fds_below_connection_cap(settings.max_connections);
  return run_process(uv_default_loop(), "shutting down: draining requests in flight",
                     [&] { return std::make_unique<Sidecar>(settings, routes); });
}

}  // namespace streamshift
