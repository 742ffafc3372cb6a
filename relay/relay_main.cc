// The relay program; see relay_main.h.
#include "relay/relay_main.h"

#include <uv.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/admin_router.h"
#include "core/config_report.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/process_runner.h"
#include "core/runtime_control.h"
#include "core/stream_settings.h"
#include "relay/relay.h"
#include "relay/relay_admin.h"
#include "relay/relay_metrics.h"
#include "relay/relay_runtime.h"
#include "relay/relay_settings.h"
#include "relay/target_headers_watch.h"

namespace streamshift {
namespace {

// The relay, its admin listener and its runtime control, all on the main
// loop: an accepted runtime set is written into `settings` there.
class RelayProgram final : public Program {
 public:
  RelayProgram(uv_loop_t* loop, RelaySettings& settings, RuntimeLayers runtime_layers)
      : settings_(settings),
        metrics_(registry_, settings.redis_tls.get()),
        relay_(loop, settings, metrics_),
        admin_(loop, settings.admin_listen, registry_,
               [this] { return relay_readiness(relay_.not_ready_reason()); }),
        runtime_(loop, registry_, std::move(runtime_layers),
                 RuntimeControl::Options{settings.runtime_dir, settings.admin_token},
                 [this](const RuntimeValues& merged) {
                   apply_relay_runtime(settings_, merged);
                   relay_.settings_changed();
                 }) {
    runtime_.add_routes(admin_.router());
    if (!settings.headers_file.empty()) {
      headers_ = std::make_unique<TargetHeadersWatch>(
          loop, registry_, settings.headers_file, settings.target_headers,
          [this](const TargetHeaders& headers) { settings_.target_headers = headers.block; });
    }
  }

  bool start() override {
    if (int rc = admin_.start(); rc != 0) {
      log_line(LogLevel::kError, "cannot listen (admin)",
               {{"address",
                 settings_.admin_listen.host + ":" + std::to_string(settings_.admin_listen.port)},
                {"error", uv_error_text(rc)}});
      return false;
    }
    relay_.start();
    runtime_.start();
    if (headers_) headers_->start();
    std::string streams;
    for (const std::string& s : settings_.streams) streams += (streams.empty() ? "" : ",") + s;
    log_line(LogLevel::kInfo, "relay started",
             {{"streams", streams},
              {"shards", settings_.stream_shards},
              {"read_groups", static_cast<int64_t>(settings_.read_groups().size())},
              {"group", settings_.group},
              {"consumer", settings_.consumer},
              {"target", settings_.target.host + ":" + std::to_string(settings_.target.port) +
                             settings_.target.path_prefix},
              {"concurrency", static_cast<int64_t>(settings_.concurrency)},
              {"admin", settings_.admin_listen.host + ":" + std::to_string(admin_.port())}});
    return true;
  }

  void begin_drain() override {
    runtime_.close([] {});
    if (headers_) headers_->close([] {});
    relay_.drain([this] { admin_.close("relay stopping", [] {}); });
  }

  // Everything the relay and the listener hold is on the main loop, which
  // the runner closes next.
  void finish(Ending) override {
    runtime_.close([] {});
    if (headers_) headers_->close([] {});
  }

 private:
  RelaySettings& settings_;
  Registry registry_;
  RelayMetrics metrics_;
  Relay relay_;
  AdminListener admin_;
  RuntimeControl runtime_;
  std::unique_ptr<TargetHeadersWatch> headers_;  // with STREAMSHIFT_RELAY_HEADERS_FILE
};

}  // namespace

int check_relay_config(bool strict) {
  EnvReader env;
  RelaySettings settings = load_relay_settings(env);
  std::vector<std::string> header_names = load_relay_headers(env, settings);
  if (strict) check_unknown_variables(env, strict);
  print_configuration(env, "relay");
  std::printf("consumer: %s in group %s; dead letters to %s\n", settings.consumer.c_str(),
              settings.group.c_str(), settings.dlq_stream.c_str());
  std::printf("streams read: %zu (%d shard%s each), in %zu blocking read%s\n",
              settings.streams.size(), settings.stream_shards,
              settings.stream_shards == 1 ? "" : "s", settings.read_groups().size(),
              settings.read_groups().size() == 1 ? "" : "s");
  std::printf("redis tls: %s\n",
              redis_tls_summary(settings.redis, settings.redis_tls.get()).c_str());
  if (!settings.headers_file.empty()) {
    std::string names;
    for (const std::string& n : header_names) names += (names.empty() ? "" : ", ") + n + ": ****";
    std::printf("relay headers (%s): %s\n", settings.headers_file.c_str(),
                names.empty() ? "none" : names.c_str());
  }
  return configuration_status(env);
}

int run_relay() {
  EnvReader env;
  RelaySettings settings = load_relay_settings(env);
  load_relay_headers(env, settings);
  if (!env.ok()) return refuse_to_start(env, "streamshift relay");
  prepare_process(settings.log_level);
  warn_if_redis_tls_unverified(settings.redis_tls.get());
  // The runtime directory's values are in force before the first delivery.
  RuntimeLayers layers(relay_runtime_names(), runtime_values_in_environment(relay_runtime_names()),
                       validate_relay_runtime);
  seed_runtime_layers(layers, settings.runtime_dir);
  if (layers.generation() > 0) apply_relay_runtime(settings, layers.merged());
  uv_loop_t* loop = uv_default_loop();
  return run_process(loop, "shutting down: draining deliveries in flight", [&] {
    return std::make_unique<RelayProgram>(loop, settings, std::move(layers));
  });
}

}  // namespace streamshift
