// streamshift: the sidecar binary and its subcommands.
//
//   streamshift [proxy]                 run the sidecar (the default)
//   streamshift relay                   run the relay (streams -> SignalR)
//   streamshift check-config [--strict] [proxy|relay]
//                                       validate the environment and print it
//   streamshift --version | --help
#include <sys/resource.h>
#include <uv.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/env_config.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "proxy/admin_server.h"
#include "proxy/proxy_metrics.h"
#include "proxy/proxy_settings.h"
#include "proxy/routes.h"
#include "proxy/worker.h"
#include "relay/relay_main.h"
#include "relay/relay_settings.h"

extern char** environ;

namespace streamshift {
namespace {

constexpr std::string_view kVersion = STREAMSHIFT_VERSION;
constexpr std::string_view kUsage =
    "usage: streamshift [command]\n"
    "\n"
    "commands:\n"
    "  proxy          run the sidecar (the default when no command is given)\n"
    "  relay          run the relay: consume the streams, deliver to SignalR\n"
    "  check-config [--strict] [proxy|relay]\n"
    "                 validate the environment, print the effective configuration\n"
    "                 (secrets masked); exit 0, or 2 naming every invalid variable;\n"
    "                 --strict: unknown STREAMSHIFT_*/EVENT_TRANSPORT_*/EVENT_COALESCING_*\n"
    "                 variables are errors too\n"
    "  --version      print the version\n"
    "  --help         print this help\n"
    "\n"
    "Configuration is by environment variable only; see README.md.\n";

// Variables with our prefixes that nothing reads: most likely typos.
std::vector<std::string> unknown_variables(const EnvReader& env) {
  std::set<std::string> known;
  for (const ConfigEntry& e : env.entries()) known.insert(e.name);
  std::vector<std::string> unknown;
  for (char** p = environ; *p != nullptr; ++p) {
    std::string_view entry(*p);
    std::string name(entry.substr(0, entry.find('=')));
    bool ours = name.rfind("STREAMSHIFT_", 0) == 0 || name.rfind("EVENT_TRANSPORT_", 0) == 0 ||
                name.rfind("EVENT_COALESCING_", 0) == 0;
    if (ours && known.count(name) == 0) unknown.push_back(name);
  }
  return unknown;
}

// The built-in routes, or those of STREAMSHIFT_ROUTES_FILE (an error is
// recorded against that variable).
RouteTable load_routes(const ProxySettings& settings, EnvReader& env) {
  if (settings.transport.routes_file.empty()) return RouteTable::defaults();
  std::string why;
  if (auto table = RouteTable::load_file(settings.transport.routes_file, &why)) return *table;
  env.reject("STREAMSHIFT_ROUTES_FILE", settings.transport.routes_file,
             "a readable YAML or JSON route table: " + why);
  return RouteTable::defaults();
}

// Every variable with its value in force; an invalid one is shown as the
// value given (masked where secret) and marked INVALID, never as the
// default the program would have fallen back to.
void print_entries(const EnvReader& env, std::string_view program) {
  std::printf("streamshift %.*s %.*s: %s\n", static_cast<int>(program.size()), program.data(),
              static_cast<int>(kVersion.size()), kVersion.data(),
              env.ok() ? "effective configuration" : "INVALID configuration (errors on stderr)");
  for (const ConfigEntry& e : env.entries()) {
    const ConfigError* error = nullptr;
    for (const ConfigError& err : env.errors()) {
      if (err.name == e.name) error = &err;
    }
    if (error != nullptr) {
      std::printf("%s=%s\t(INVALID, allowed: %s) %s\n", e.name.c_str(), error->value.c_str(),
                  error->allowed.c_str(), e.help.c_str());
    } else {
      std::printf("%s=%s\t(%s) %s\n", e.name.c_str(), e.shown_value.c_str(),
                  e.from_environment ? "set" : "default", e.help.c_str());
    }
  }
}

// Unknown variables with our prefixes are warnings, or errors with --strict.
void check_unknown(EnvReader& env, bool strict) {
  for (const std::string& name : unknown_variables(env)) {
    if (strict)
      env.reject(name, "(set)", "a variable streamshift reads (--strict)");
    else
      std::fprintf(stderr, "warning: %s is set but not used by streamshift (a typo?)\n",
                   name.c_str());
  }
}

int report_errors(const EnvReader& env) {
  if (env.ok()) return 0;
  std::fprintf(stderr, "invalid configuration:\n%s", env.error_report().c_str());
  return 2;
}

int check_relay_config(bool strict) {
  EnvReader env;
  RelaySettings settings = load_relay_settings(env);
  if (strict) check_unknown(env, strict);
  print_entries(env, "relay");
  std::printf("consumer: %s in group %s; dead letters to %s\n", settings.consumer.c_str(),
              settings.group.c_str(), settings.dlq_stream.c_str());
  return report_errors(env);
}

int check_config(bool strict) {
  EnvReader env;
  ProxySettings settings = load_proxy_settings(env);
  RouteTable routes = load_routes(settings, env);
  check_unknown(env, strict);
  print_entries(env, "proxy");
  std::printf("routes (%s):\n",
              settings.transport.routes_file.empty() ? "built-in" : "from STREAMSHIFT_ROUTES_FILE");
  for (const Route& r : routes.routes()) {
    std::printf("  %s %s -> %s%s%s\n", r.method.c_str(), r.pattern.c_str(), r.stream.c_str(),
                r.event_type.empty() ? "" : " event_type=", r.event_type.c_str());
  }
  const TransportSettings& t = settings.transport;
  std::printf("decision: %s\n",
              !t.use_redis_streams
                  ? "every event over HTTP (EVENT_TRANSPORT_USE_REDIS_STREAMS=false)"
              : t.dual_write
                  ? "every event over HTTP, plus a shadow copy in Redis Streams"
                  : ("Redis Streams for " + std::to_string(t.redis_percentage) + "% of events by " +
                     (t.rollout_key == RolloutKey::kRoom ? "room" : "random draw") +
                     (t.fallback_to_http ? ", HTTP fallback on failure" : ", 503 on failure"))
                        .c_str());
  return report_errors(env);
}

int unexpected_argument(std::string_view arg) {
  std::fprintf(stderr, "streamshift: unexpected argument '%.*s'\n%.*s",
               static_cast<int>(arg.size()), arg.data(), static_cast<int>(kUsage.size()),
               kUsage.data());
  return 2;
}

// check-config [--strict] [proxy|relay], in any order.
int check_config_command(const std::vector<std::string_view>& args) {
  bool strict = false;
  std::string_view program;
  for (std::string_view a : args) {
    if (a == "--strict" && !strict)
      strict = true;
    else if (program.empty() && (a == "proxy" || a == "relay"))
      program = a;
    else
      return unexpected_argument(a);
  }
  return program == "relay" ? check_relay_config(strict) : check_config(strict);
}

struct SignalState {
  std::vector<std::unique_ptr<Worker>>* workers;
  std::atomic<bool>* ready_flag_draining;
  ProxyMetrics* metrics;
  uv_signal_t term, interrupt;
  bool draining = false;
};

void on_signal(uv_signal_t* handle, int signum) {
  auto* state = static_cast<SignalState*>(handle->data);
  if (state->draining) {
    log_line(LogLevel::kWarn, "signal received while draining; still draining",
             {{"signal", signum}});
    return;
  }
  state->draining = true;
  state->ready_flag_draining->store(true);  // /readyz answers 503 from now on
  state->metrics->draining.Set(1);
  log_line(LogLevel::kInfo, "shutting down: draining requests in flight",
           {{"signal", signum == SIGTERM ? "SIGTERM" : "SIGINT"}});
  for (auto& w : *state->workers) w->request_drain();
  uv_close(reinterpret_cast<uv_handle_t*>(&state->term), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&state->interrupt), nullptr);
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

int run_proxy() {
  EnvReader env;
  ProxySettings settings = load_proxy_settings(env);
  RouteTable routes = load_routes(settings, env);
  if (!env.ok()) {
    std::fprintf(stderr, "streamshift: invalid configuration:\n%s", env.error_report().c_str());
    for (const ConfigError& e : env.errors()) {
      log_line(LogLevel::kError, "invalid configuration",
               {{"variable", e.name}, {"value", e.value}, {"allowed", e.allowed}});
    }
    return 2;
  }
  set_log_level(settings.log_level);
  ignore_sigpipe();
  for (const std::string& name : unknown_variables(env)) {
    log_line(LogLevel::kWarn, "variable set but not used (a typo?)", {{"variable", name}});
  }
  warn_if_fds_below_connection_cap(settings.max_connections);

  // Signals first, so a SIGTERM during start-up is not lost.
  uv_loop_t* main_loop = uv_default_loop();
  Registry registry;
  ProxyMetrics metrics(registry, settings.transport, settings.workers);
  std::atomic<bool> draining{false};
  std::vector<std::unique_ptr<Worker>> workers;
  SignalState signals;
  signals.workers = &workers;
  signals.ready_flag_draining = &draining;
  signals.metrics = &metrics;
  uv_signal_init(main_loop, &signals.term);
  uv_signal_init(main_loop, &signals.interrupt);
  signals.term.data = signals.interrupt.data = &signals;
  uv_signal_start(&signals.term, on_signal, SIGTERM);
  uv_signal_start(&signals.interrupt, on_signal, SIGINT);

  IngressBudgets budgets{SharedBudget(settings.max_connections),
                         SharedBudget(settings.body_budget_bytes)};
  std::vector<const WorkerHealth*> health;
  for (int i = 0; i < settings.workers; ++i) {
    workers.push_back(std::make_unique<Worker>(settings, routes, metrics, i, budgets));
    health.push_back(&workers.back()->health());
  }
  AdminServer admin(settings.admin, settings.transport, registry, metrics, health, draining);
  if (int rc = admin.start(); rc != 0) {
    log_line(
        LogLevel::kError, "cannot listen (admin)",
        {{"address", settings.admin.listen.host + ":" + std::to_string(settings.admin.listen.port)},
         {"error", uv_error_text(rc)}});
    workers.clear();
    close_loop(main_loop);
    return 1;
  }
  for (int i = 0; i < settings.workers; ++i) {
    int rc = workers[i]->start();
    if (rc != 0) {
      log_line(LogLevel::kError, "cannot listen",
               {{"address", settings.listen.host + ":" + std::to_string(settings.listen.port)},
                {"error", uv_error_text(rc)}});
      for (auto& w : workers) w->request_drain();
      workers.clear();
      admin.stop();
      admin.join();
      close_loop(main_loop);
      return 1;
    }
  }
  log_line(
      LogLevel::kInfo, "listening",
      {{"address", settings.listen.host + ":" + std::to_string(settings.listen.port)},
       {"workers", settings.workers},
       {"upstream", settings.upstream.host + ":" + std::to_string(settings.upstream.port) +
                        settings.upstream.path_prefix},
       {"transport", !settings.transport.use_redis_streams ? "http"
                     : settings.transport.dual_write       ? "dual_write"
                                                           : "redis_streams"},
       {"redis_percentage", settings.transport.redis_percentage},
       {"routes", routes.routes().size()},
       {"admin", settings.admin.listen.host + ":" + std::to_string(settings.admin.listen.port)},
       {"version", kVersion}});

  uv_run(main_loop, UV_RUN_DEFAULT);
  TransportStats totals;
  for (auto& w : workers) {
    w->join();
    totals.add(w->stats());
  }
  log_line(LogLevel::kInfo, "transport totals", {LogField::json("events", totals.to_json())});
  admin.stop();
  admin.join();
  workers.clear();
  close_loop(main_loop);
  log_line(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace
}  // namespace streamshift

int main(int argc, char** argv) {
  using namespace streamshift;
  std::string_view command = argc > 1 ? argv[1] : "proxy";
  if (command == "check-config") {
    return check_config_command(std::vector<std::string_view>(argv + 2, argv + argc));
  }
  if (argc > 2) return unexpected_argument(argv[2]);
  if (command == "--version" || command == "version") {
    std::printf("streamshift %.*s\n", static_cast<int>(kVersion.size()), kVersion.data());
    return 0;
  }
  if (command == "--help" || command == "-h" || command == "help") {
    std::printf("%.*s", static_cast<int>(kUsage.size()), kUsage.data());
    return 0;
  }
  if (command == "proxy") return run_proxy();
  if (command == "relay") return run_relay();
  std::fprintf(stderr, "streamshift: unknown command '%.*s'\n%.*s",
               static_cast<int>(command.size()), command.data(), static_cast<int>(kUsage.size()),
               kUsage.data());
  return 2;
}
