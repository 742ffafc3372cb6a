// Running the relay: settings, loop, signals, admin listener; see relay_main.h.
#include "relay/relay_main.h"

#include <uv.h>

#include <cstdio>

#include "core/admin_router.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "relay/relay.h"
#include "relay/relay_admin.h"
#include "relay/relay_metrics.h"

namespace streamshift {
namespace {

struct Signals {
  Relay* relay;
  AdminListener* admin;
  uv_signal_t term, interrupt;
  bool draining = false;
};

void on_signal(uv_signal_t* handle, int signum) {
  auto* s = static_cast<Signals*>(handle->data);
  if (s->draining) return;
  s->draining = true;
  log_line(LogLevel::kInfo, "shutting down: draining deliveries in flight",
           {{"signal", signum == SIGTERM ? "SIGTERM" : "SIGINT"}});
  uv_close(reinterpret_cast<uv_handle_t*>(&s->term), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&s->interrupt), nullptr);
  AdminListener* admin = s->admin;
  s->relay->drain([admin] { admin->close("relay stopping", [] {}); });
}

}  // namespace

int run_relay() {
  EnvReader env;
  RelaySettings settings = load_relay_settings(env);
  if (!env.ok()) {
    std::fprintf(stderr, "streamshift relay: invalid configuration:\n%s",
                 env.error_report().c_str());
    for (const ConfigError& e : env.errors()) {
      log_line(LogLevel::kError, "invalid configuration",
               {{"variable", e.name}, {"value", e.value}, {"allowed", e.allowed}});
    }
    return 2;
  }
  set_log_level(settings.log_level);
  ignore_sigpipe();

  uv_loop_t* loop = uv_default_loop();
  Registry registry;
  RelayMetrics metrics(registry);
  Relay relay(loop, settings, metrics);
  AdminListener admin(loop, settings.admin_listen, registry,
                      [&relay] { return relay_readiness(relay.not_ready_reason()); });
  Signals signals{&relay, &admin, {}, {}};
  uv_signal_init(loop, &signals.term);
  uv_signal_init(loop, &signals.interrupt);
  signals.term.data = signals.interrupt.data = &signals;
  uv_signal_start(&signals.term, on_signal, SIGTERM);
  uv_signal_start(&signals.interrupt, on_signal, SIGINT);

  if (int rc = admin.start(); rc != 0) {
    log_line(
        LogLevel::kError, "cannot listen (admin)",
        {{"address", settings.admin_listen.host + ":" + std::to_string(settings.admin_listen.port)},
         {"error", uv_error_text(rc)}});
    close_loop(loop);
    return 1;
  }
  relay.start();
  std::string streams;
  for (const std::string& s : settings.streams) streams += (streams.empty() ? "" : ",") + s;
  log_line(LogLevel::kInfo, "relay started",
           {{"streams", streams},
            {"group", settings.group},
            {"consumer", settings.consumer},
            {"target", settings.target.host + ":" + std::to_string(settings.target.port) +
                           settings.target.path_prefix},
            {"concurrency", static_cast<int64_t>(settings.concurrency)},
            {"admin", settings.admin_listen.host + ":" + std::to_string(admin.port())}});
  uv_run(loop, UV_RUN_DEFAULT);
  close_loop(loop);
  log_line(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace streamshift
