// The sidecar's runtime-capable settings: the start's rules validate a set,
// and only the runtime-capable fields are taken from it.
#include "proxy/runtime_settings.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

TEST(SidecarRuntime, ASetIsValidatedWithTheStartsRulesAndMessages) {
  EXPECT_EQ(validate_sidecar_runtime({{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "40"}}), "");
  std::string error = validate_sidecar_runtime(
      {{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "140"}, {"EVENT_COALESCING_WINDOW_MS", "5"}});
  EXPECT_NE(error.find("EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE"), std::string::npos) << error;
  EXPECT_NE(error.find("EVENT_COALESCING_WINDOW_MS"), std::string::npos) << error;
  // The alias must agree with the name it stands for, as at start.
  EXPECT_NE(validate_sidecar_runtime({{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "40"},
                                      {"EVENT_TRANSPORT_REDIS_PERCENTAGE", "50"}}),
            "");
}

TEST(SidecarRuntime, OnlyTheRuntimeCapableFieldsComeFromTheSet) {
  TransportSettings start;
  start.redis_max_connections = 7;
  start.routes_file = "/etc/routes.yaml";
  start.coalescing.refresh_ms = 3000;
  TransportSettings t =
      sidecar_runtime_transport(start, {{"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"},
                                        {"EVENT_TRANSPORT_REDIS_PERCENTAGE", "30"},
                                        {"EVENT_TRANSPORT_ROLLOUT_KEY", "random"},
                                        {"EVENT_TRANSPORT_DUAL_WRITE", "true"},
                                        {"EVENT_TRANSPORT_FALLBACK_TO_HTTP", "false"},
                                        {"EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "250"},
                                        {"EVENT_TRANSPORT_STREAM_MAX_LEN", "5000"},
                                        {"EVENT_COALESCING_ENABLED", "false"},
                                        {"EVENT_COALESCING_WINDOW_MS", "50"},
                                        {"STREAMSHIFT_CIRCUIT_FAILURES", "9"},
                                        {"STREAMSHIFT_CIRCUIT_OPEN_MS", "700"}});
  EXPECT_TRUE(t.use_redis_streams);
  EXPECT_EQ(t.redis_percentage, 30);
  EXPECT_EQ(t.rollout_key, RolloutKey::kRandom);
  EXPECT_TRUE(t.dual_write);
  EXPECT_FALSE(t.fallback_to_http);
  EXPECT_EQ(t.publish_timeout_ms, 250u);
  EXPECT_EQ(t.stream_max_len, 5000);
  EXPECT_FALSE(t.coalescing.enabled);
  EXPECT_EQ(t.coalescing.window_ms, 50u);
  EXPECT_EQ(t.circuit_failures, 9);
  EXPECT_EQ(t.circuit_open_ms, 700u);
  EXPECT_EQ(t.redis_max_connections, 7);
  EXPECT_EQ(t.routes_file, "/etc/routes.yaml");
  EXPECT_EQ(t.coalescing.refresh_ms, 3000u);
  for (const std::string& name : sidecar_runtime_names()) {
    EXPECT_TRUE(name.starts_with("EVENT_") || name.starts_with("STREAMSHIFT_CIRCUIT_")) << name;
  }
}

}  // namespace
}  // namespace streamshift
