// Runtime control on the admin loop; see runtime_control.h.
#include "core/runtime_control.h"

#include <cstdlib>
#include <utility>

#include "core/admin_auth.h"
#include "core/json.h"
#include "core/log.h"
#include "core/query_string.h"

namespace streamshift {

std::string load_runtime_dir_setting(EnvReader& env) {
  return env.text("STREAMSHIFT_RUNTIME_DIR", "",
                  "directory of runtime values, one file per variable (a ConfigMap volume), "
                  "applied while running");
}

RuntimeValues runtime_values_in_environment(const std::vector<std::string>& names) {
  RuntimeValues values;
  for (const std::string& name : names) {
    if (const char* v = std::getenv(name.c_str())) values[name] = v;
  }
  return values;
}

EnvReader::Lookup merged_over_environment(const RuntimeValues& merged) {
  return [&merged](std::string_view name) -> std::optional<std::string> {
    auto it = merged.find(std::string(name));
    if (it != merged.end()) return it->second;
    std::string key(name);
    if (const char* v = std::getenv(key.c_str())) return std::string(v);
    return std::nullopt;
  };
}

std::optional<RuntimeValues> parse_runtime_query(std::string_view query, std::string* why) {
  std::optional<RuntimeValues> values = parse_query_string(query, why);
  if (values && values->empty()) {
    *why = "no NAME=VALUE given (POST /runtime_modify?NAME=VALUE[&NAME=VALUE...])";
    return std::nullopt;
  }
  return values;
}

RuntimeControl::RuntimeControl(uv_loop_t* loop, Registry& registry, RuntimeLayers layers,
                               Options options, OnGeneration on_generation)
    : layers_(std::move(layers)),
      options_(std::move(options)),
      on_generation_(std::move(on_generation)) {
  auto& reloads = registry.AddCounter(
      "streamshift_runtime_reloads_total",
      "Runtime value sets (STREAMSHIFT_RUNTIME_DIR, POST /runtime_modify) accepted or rejected");
  accepted_ = &reloads.Add({{"result", "accepted"}});
  rejected_ = &reloads.Add({{"result", "rejected"}});
  published_generation_ = layers_.generation();
  if (options_.dir.empty()) return;
  RuntimeDir::Options dir;
  dir.path = options_.dir;
  dir_ = std::make_unique<RuntimeDir>(
      loop, dir, [this](const RuntimeValues& values) { reloaded(layers_.apply_file(values)); },
      [dir_path = options_.dir](const std::string& error) {
        log_line(LogLevel::kWarn, "runtime directory unreadable: the values in force stay",
                 {{"dir", dir_path}, {"error", error}});
      });
}

void RuntimeControl::add_routes(AdminRouter& router) {
  router.add_prefix("/runtime", [this](Exchange& exchange, std::string_view rest) {
    if (!rest.empty()) {
      exchange.respond_json(404, json_error_body("not_found", "no such admin endpoint"));
      return;
    }
    exchange.respond_json(200, layers_.render());
  });
  router.add_post("/runtime_modify",
                  [this](Exchange& exchange, std::string_view) { modify(exchange); });
}

void RuntimeControl::start() {
  if (dir_) dir_->start();
}

void RuntimeControl::close(std::function<void()> on_closed) {
  if (!dir_) {
    on_closed();
    return;
  }
  dir_->close(std::move(on_closed));
}

void RuntimeControl::modify(Exchange& exchange) {
  if (!admin_authorized(exchange, options_.token,
                        "STREAMSHIFT_ADMIN_TOKEN is not set: /runtime_modify is off"))
    return;
  std::string_view target = exchange.request().target();
  size_t q = target.find('?');
  std::string why;
  std::optional<RuntimeValues> values =
      parse_runtime_query(q == std::string_view::npos ? "" : target.substr(q + 1), &why);
  if (!values) {
    exchange.respond_json(400, json_error_body("invalid_runtime_query", why));
    return;
  }
  RuntimeReload reload = layers_.apply_admin(*values);
  reloaded(reload);
  if (reload.result == RuntimeReloadResult::kRejected) {
    exchange.respond_json(400, json_error_body("invalid_runtime_value", reload.error));
    return;
  }
  exchange.respond_json(200, layers_.render());
}

void seed_runtime_layers(RuntimeLayers& layers, const std::string& dir) {
  if (dir.empty()) return;
  RuntimeDirRead read = read_runtime_dir(dir);
  if (!read.error.empty()) {
    log_line(LogLevel::kWarn, "runtime directory unreadable at start: environment values in force",
             {{"dir", dir}, {"error", read.error}});
    return;
  }
  RuntimeControl::log_reload(layers.apply_file(read.values));
}

void RuntimeControl::log_reload(const RuntimeReload& reload) {
  std::string_view layer = runtime_layer_name(reload.layer);
  for (const std::string& name : reload.newly_ignored) {
    log_line(LogLevel::kWarn, "runtime: variable is not runtime-capable, ignored",
             {{"variable", name}, {"layer", layer}});
  }
  if (reload.result == RuntimeReloadResult::kRejected) {
    log_line(LogLevel::kError, "runtime: values refused, the previous ones stay in force",
             {{"layer", layer}, {"error", reload.error}});
    return;
  }
  for (const RuntimeChange& change : reload.changes) {
    log_line(LogLevel::kInfo, runtime_audit_line(change), {{"layer", layer}});
  }
}

void RuntimeControl::reloaded(const RuntimeReload& reload) {
  log_reload(reload);
  if (reload.result == RuntimeReloadResult::kRejected) {
    rejected_->Increment();
    return;
  }
  accepted_->Increment();
  if (layers_.generation() == published_generation_) return;
  published_generation_ = layers_.generation();
  on_generation_(layers_.merged());
}

}  // namespace streamshift
