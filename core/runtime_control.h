// Runtime control on a program's admin loop (issue 19): the layers of
// core/runtime_layers.h fed by the runtime directory (core/runtime_dir.h)
// and by the admin endpoints, everything on that one loop, so no lock:
//
//   RuntimeDir on_change --apply_file--+
//   POST /runtime_modify --apply_admin-+--> RuntimeLayers (validated whole)
//                                           | every reload: its audit lines and newly
//                                           |   ignored names logged, counted in
//                                           |   streamshift_runtime_reloads_total{result}
//                                           v a new generation
//                                         on_generation(merged): the program loads its
//                                         settings and publishes them to its workers
//   GET /runtime --> RuntimeLayers::render()
//
// POST /runtime_modify?NAME=VALUE[&NAME=VALUE...] (values percent-decoded;
// an empty value removes that admin override) needs the bearer token
// (core/admin_auth.h); accepted: 200 and the GET /runtime document; refused:
// 400 {"error":"invalid_runtime_value","detail":"<the start's message>"}.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "core/admin_router.h"
#include "core/env_config.h"
#include "core/metrics.h"
#include "core/runtime_dir.h"
#include "core/runtime_layers.h"

namespace streamshift {

/// NAME=VALUE pairs of a query string, percent-decoded ('+' is a space);
/// nullopt, with `why`, for a malformed one (no '=', an empty name, a bad
/// escape).
std::optional<RuntimeValues> parse_runtime_query(std::string_view query, std::string* why);

/// STREAMSHIFT_RUNTIME_DIR, read at start ("" when unset).
std::string load_runtime_dir_setting(EnvReader& env);

/// The values of `names` in the process environment (the env layer).
RuntimeValues runtime_values_in_environment(const std::vector<std::string>& names);

/// Reads a name from `merged` first, then from the process environment: what a
/// program's settings loader reads a runtime set through. `merged` must outlive it.
EnvReader::Lookup merged_over_environment(const RuntimeValues& merged);

/// A program's Validator: its settings loader `load(EnvReader&)` run over
/// `merged` then the environment; "" or the start's error report.
template <class Load>
std::string runtime_error_report(const RuntimeValues& merged, Load load) {
  EnvReader env(merged_over_environment(merged));
  load(env);
  return env.error_report();
}

/// At start, before any worker decides: the directory read once, blocking,
/// and applied as the file layer (refusals and ignored names logged), so the
/// first request already sees the directory's values.
void seed_runtime_layers(RuntimeLayers& layers, const std::string& dir);

class RuntimeControl {
 public:
  struct Options {
    std::string dir;    // STREAMSHIFT_RUNTIME_DIR; empty: no file layer
    std::string token;  // STREAMSHIFT_ADMIN_TOKEN; empty: /runtime_modify answers 403
  };
  using OnGeneration = std::function<void(const RuntimeValues& merged)>;

  /// On the admin loop's thread, before it runs. `layers` as seeded: their
  /// generation is taken as already published.
  RuntimeControl(uv_loop_t* loop, Registry& registry, RuntimeLayers layers, Options options,
                 OnGeneration on_generation);
  RuntimeControl(const RuntimeControl&) = delete;
  RuntimeControl& operator=(const RuntimeControl&) = delete;

  /// GET /runtime and POST /runtime_modify.
  void add_routes(AdminRouter& router);
  /// Reads the directory (when set) and watches it.
  void start();
  /// `on_closed` once the directory's handles and reads are done.
  void close(std::function<void()> on_closed);

  const RuntimeLayers& layers() const { return layers_; }

 private:
  void reloaded(const RuntimeReload& reload);
  friend void seed_runtime_layers(RuntimeLayers& layers, const std::string& dir);
  static void log_reload(const RuntimeReload& reload);
  void modify(Exchange& exchange);

  RuntimeLayers layers_;
  Options options_;
  OnGeneration on_generation_;
  Counter* accepted_;
  Counter* rejected_;
  uint64_t published_generation_ = 0;
  std::unique_ptr<RuntimeDir> dir_;
};

}  // namespace streamshift
