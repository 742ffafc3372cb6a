// The relay's runtime-capable settings; see relay_runtime.h.
#include "relay/relay_runtime.h"

#include "core/runtime_control.h"

namespace streamshift {

const std::vector<std::string>& relay_runtime_names() {
  static const std::vector<std::string> names = {
      "STREAMSHIFT_RELAY_CONCURRENCY",
      "STREAMSHIFT_RELAY_RETRY_INITIAL_MS",
      "STREAMSHIFT_RELAY_RETRY_MAX_MS",
      "STREAMSHIFT_DEDUP_TTL_S",
  };
  return names;
}

std::string validate_relay_runtime(const RuntimeValues& merged) {
  return runtime_error_report(merged, load_relay_settings);
}

void apply_relay_runtime(RelaySettings& settings, const RuntimeValues& merged) {
  EnvReader env(merged_over_environment(merged));
  RelaySettings read = load_relay_settings(env);
  settings.concurrency = read.concurrency;
  settings.retry_initial_ms = read.retry_initial_ms;
  settings.retry_max_ms = read.retry_max_ms;
  settings.dedup_ttl_s = read.dedup_ttl_s;
}

}  // namespace streamshift
