// The sidecar's runtime-capable settings; see runtime_settings.h.
#include "proxy/runtime_settings.h"

#include "core/runtime_control.h"

namespace streamshift {

const std::vector<std::string>& sidecar_runtime_names() {
  static const std::vector<std::string> names = {
      "EVENT_TRANSPORT_USE_REDIS_STREAMS", "EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE",
      "EVENT_TRANSPORT_REDIS_PERCENTAGE",  // the quickstart's alias
      "EVENT_TRANSPORT_ROLLOUT_KEY",       "EVENT_TRANSPORT_DUAL_WRITE",
      "EVENT_TRANSPORT_FALLBACK_TO_HTTP",  "EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS",
      "EVENT_TRANSPORT_STREAM_MAX_LEN",    "EVENT_COALESCING_ENABLED",
      "EVENT_COALESCING_WINDOW_MS",        "STREAMSHIFT_CIRCUIT_FAILURES",
      "STREAMSHIFT_CIRCUIT_OPEN_MS",
  };
  return names;
}

std::string validate_sidecar_runtime(const RuntimeValues& merged) {
  return runtime_error_report(merged, load_transport_settings);
}

TransportSettings sidecar_runtime_transport(const TransportSettings& start,
                                            const RuntimeValues& merged) {
  EnvReader env(merged_over_environment(merged));
  TransportSettings read = load_transport_settings(env);
  TransportSettings t = start;
  t.use_redis_streams = read.use_redis_streams;
  t.redis_percentage = read.redis_percentage;
  t.rollout_key = read.rollout_key;
  t.dual_write = read.dual_write;
  t.fallback_to_http = read.fallback_to_http;
  t.publish_timeout_ms = read.publish_timeout_ms;
  t.stream_max_len = read.stream_max_len;
  t.coalescing.enabled = read.coalescing.enabled;
  t.coalescing.window_ms = read.coalescing.window_ms;
  t.circuit_failures = read.circuit_failures;
  t.circuit_open_ms = read.circuit_open_ms;
  return t;
}

}  // namespace streamshift
