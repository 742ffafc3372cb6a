// Runtime layers (core/runtime_layers.h): env < file < admin, a set
// validated as a whole by an EnvReader-based loader as at start, rejected
// sets leaving the values in force, the audit of changes, and GET /runtime.
#include "core/runtime_layers.h"

#include <gtest/gtest.h>

#include "core/json.h"
#include "tests/support/env_map.h"

namespace streamshift {
namespace {

using ::streamshift::testing::env_from;

constexpr const char* kSwitch = "EVENT_TRANSPORT_USE_REDIS_STREAMS";
constexpr const char* kPercent = "EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE";
constexpr const char* kWindow = "EVENT_COALESCING_WINDOW_MS";

// What a program passes: its settings loader over the merged map.
std::string load_settings(const RuntimeValues& merged) {
  EnvReader env = env_from(merged);
  env.boolean(kSwitch, false, "master switch");
  int64_t percent = env.integer(kPercent, 100, 0, 100, "share of rooms");
  int64_t window = env.integer(kWindow, 20, 1, 1000, "coalescing window");
  if (percent == 0 && window > 500) env.reject(kWindow, std::to_string(window), "<= 500 at 0%");
  return env.ok() ? "" : env.error_report();
}

RuntimeLayers make_layers(const RuntimeValues& env = {{kSwitch, "false"}}) {
  return RuntimeLayers({kSwitch, kPercent, kWindow}, env, load_settings);
}

TEST(RuntimeLayers, FileOverridesEnvAndAdminOverridesFile) {
  RuntimeLayers layers = make_layers({{kSwitch, "false"}, {kPercent, "10"}});
  ASSERT_EQ(layers.apply_file({{kPercent, "50"}, {kWindow, "30"}}).result,
            RuntimeReloadResult::kAccepted);
  ASSERT_EQ(layers.apply_admin({{kWindow, "40"}}).result, RuntimeReloadResult::kAccepted);

  auto in_force = layers.in_force();
  EXPECT_EQ(in_force[kSwitch], (RuntimeValueInForce{"false", RuntimeLayer::kEnv}));
  EXPECT_EQ(in_force[kPercent], (RuntimeValueInForce{"50", RuntimeLayer::kFile}));
  EXPECT_EQ(in_force[kWindow], (RuntimeValueInForce{"40", RuntimeLayer::kAdmin}));
  EXPECT_EQ(layers.merged(),
            (RuntimeValues{{kSwitch, "false"}, {kPercent, "50"}, {kWindow, "40"}}));
}

TEST(RuntimeLayers, NameSetNowhereIsDefaultAndEnvNamesNotCapableAreDropped) {
  RuntimeLayers layers = make_layers({{kSwitch, "true"}, {"REDIS_URL", "redis://x:6379"}});
  auto in_force = layers.in_force();
  EXPECT_EQ(in_force[kPercent], (RuntimeValueInForce{std::nullopt, RuntimeLayer::kDefault}));
  EXPECT_EQ(in_force.count("REDIS_URL"), 0u);
  EXPECT_EQ(layers.merged(), (RuntimeValues{{kSwitch, "true"}}));
}

TEST(RuntimeLayers, InvalidFileSetKeepsTheValuesInForceAndSaysWhyWithTheStartsMessage) {
  RuntimeLayers layers = make_layers();
  ASSERT_EQ(layers.apply_file({{kSwitch, "true"}}).result, RuntimeReloadResult::kAccepted);

  RuntimeReload reload = layers.apply_file({{kSwitch, "false"}, {kPercent, "150"}});
  EXPECT_EQ(reload.result, RuntimeReloadResult::kRejected);
  EXPECT_TRUE(reload.changes.empty());
  // The message is the loader's own, as at start.
  RuntimeValues bad{{kPercent, "150"}};
  EXPECT_EQ(reload.error, load_settings(bad));
  EXPECT_NE(reload.error.find(kPercent), std::string::npos) << reload.error;
  EXPECT_NE(reload.error.find("150"), std::string::npos) << reload.error;

  EXPECT_EQ(layers.in_force()[kSwitch], (RuntimeValueInForce{"true", RuntimeLayer::kFile}));
  EXPECT_EQ(layers.in_force()[kPercent],
            (RuntimeValueInForce{std::nullopt, RuntimeLayer::kDefault}));
  ASSERT_TRUE(layers.last_reload());
  EXPECT_EQ(layers.last_reload()->result, RuntimeReloadResult::kRejected);
  EXPECT_EQ(layers.generation(), 1u);
}

TEST(RuntimeLayers, ValidationIsOfTheWholeMergeAcrossLayers) {
  // Each value valid alone; together (window > 500 at 0 %) refused.
  RuntimeLayers layers = make_layers();
  ASSERT_EQ(layers.apply_admin({{kWindow, "800"}}).result, RuntimeReloadResult::kAccepted);
  RuntimeReload reload = layers.apply_file({{kPercent, "0"}});
  EXPECT_EQ(reload.result, RuntimeReloadResult::kRejected);
  EXPECT_NE(reload.error.find("<= 500 at 0%"), std::string::npos) << reload.error;
  EXPECT_EQ(layers.in_force()[kPercent].layer, RuntimeLayer::kDefault);
}

TEST(RuntimeLayers, AcceptedReloadListsEachChangedValueWithOldNewAndLayer) {
  RuntimeLayers layers = make_layers({{kSwitch, "false"}, {kPercent, "10"}});
  RuntimeReload reload = layers.apply_file({{kSwitch, "true"}, {kPercent, "10"}});
  ASSERT_EQ(reload.result, RuntimeReloadResult::kAccepted);
  // kPercent: same value, but now from the file: its layer changed.
  ASSERT_EQ(reload.changes.size(), 2u);
  EXPECT_EQ(reload.changes[0].name, kPercent);
  EXPECT_EQ(runtime_audit_line(reload.changes[0]),
            "runtime: EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE \"10\" (env) -> \"10\" (file)");
  EXPECT_EQ(runtime_audit_line(reload.changes[1]),
            "runtime: EVENT_TRANSPORT_USE_REDIS_STREAMS \"false\" (env) -> \"true\" (file)");
  EXPECT_EQ(layers.generation(), 1u);

  // An override removed from a name set nowhere else: it reads unset.
  ASSERT_EQ(layers.apply_admin({{kWindow, "25"}}).result, RuntimeReloadResult::kAccepted);
  reload = layers.apply_admin({{kWindow, ""}});
  ASSERT_EQ(reload.changes.size(), 1u);
  EXPECT_EQ(runtime_audit_line(reload.changes[0]),
            "runtime: EVENT_COALESCING_WINDOW_MS \"25\" (admin) -> unset (default)");
  EXPECT_EQ(layers.generation(), 3u);
}

TEST(RuntimeLayers, SameSetAgainIsAcceptedWithoutChangesOrNewGeneration) {
  RuntimeLayers layers = make_layers();
  ASSERT_EQ(layers.apply_file({{kSwitch, "true"}}).changes.size(), 1u);
  RuntimeReload reload = layers.apply_file({{kSwitch, "true"}});
  EXPECT_EQ(reload.result, RuntimeReloadResult::kAccepted);
  EXPECT_TRUE(reload.changes.empty());
  EXPECT_EQ(layers.generation(), 1u);
}

TEST(RuntimeLayers, FileNamesNotRuntimeCapableAreIgnoredAndReportedOnce) {
  RuntimeLayers layers = make_layers();
  RuntimeReload first = layers.apply_file({{kSwitch, "true"}, {"REDIS_URL", "redis://other:1"}});
  EXPECT_EQ(first.result, RuntimeReloadResult::kAccepted);
  EXPECT_EQ(first.newly_ignored, std::vector<std::string>{"REDIS_URL"});
  EXPECT_EQ(layers.merged().count("REDIS_URL"), 0u);

  RuntimeReload again = layers.apply_file(
      {{kSwitch, "false"}, {"REDIS_URL", "redis://other:2"}, {"STREAMSHIFT_WORKERS", "4"}});
  EXPECT_EQ(again.newly_ignored, std::vector<std::string>{"STREAMSHIFT_WORKERS"});
}

TEST(RuntimeLayers, AdminNameNotRuntimeCapableRejectsTheWholeSet) {
  RuntimeLayers layers = make_layers();
  RuntimeReload reload = layers.apply_admin({{kSwitch, "true"}, {"REDIS_URL", "redis://x:1"}});
  EXPECT_EQ(reload.result, RuntimeReloadResult::kRejected);
  EXPECT_EQ(reload.error, "REDIS_URL: not runtime-capable");
  EXPECT_EQ(layers.in_force()[kSwitch], (RuntimeValueInForce{"false", RuntimeLayer::kEnv}));
}

TEST(RuntimeLayers, AdminOverridesAccumulateAndAnEmptyValueRemovesOne) {
  RuntimeLayers layers = make_layers();
  ASSERT_EQ(layers.apply_file({{kPercent, "20"}}).result, RuntimeReloadResult::kAccepted);
  ASSERT_EQ(layers.apply_admin({{kPercent, "90"}}).result, RuntimeReloadResult::kAccepted);
  ASSERT_EQ(layers.apply_admin({{kSwitch, "true"}}).result, RuntimeReloadResult::kAccepted);
  EXPECT_EQ(layers.in_force()[kPercent], (RuntimeValueInForce{"90", RuntimeLayer::kAdmin}));

  // A file reload under an admin override leaves the override in force.
  ASSERT_EQ(layers.apply_file({{kPercent, "30"}}).result, RuntimeReloadResult::kAccepted);
  EXPECT_EQ(layers.in_force()[kPercent], (RuntimeValueInForce{"90", RuntimeLayer::kAdmin}));

  ASSERT_EQ(layers.apply_admin({{kPercent, ""}}).result, RuntimeReloadResult::kAccepted);
  EXPECT_EQ(layers.in_force()[kPercent], (RuntimeValueInForce{"30", RuntimeLayer::kFile}));
  EXPECT_EQ(layers.in_force()[kSwitch], (RuntimeValueInForce{"true", RuntimeLayer::kAdmin}));
}

TEST(RuntimeLayers, RejectedAdminSetKeepsThePreviousOverrides) {
  RuntimeLayers layers = make_layers();
  ASSERT_EQ(layers.apply_admin({{kPercent, "40"}}).result, RuntimeReloadResult::kAccepted);
  EXPECT_EQ(layers.apply_admin({{kPercent, "60"}, {kSwitch, "maybe"}}).result,
            RuntimeReloadResult::kRejected);
  EXPECT_EQ(layers.merged(), (RuntimeValues{{kSwitch, "false"}, {kPercent, "40"}}));
}

TEST(RuntimeLayers, RendersEveryVariableTheGenerationAndTheLastReload) {
  RuntimeLayers layers = make_layers();
  EXPECT_EQ(layers.render(),
            "{\"variables\":{"
            "\"EVENT_COALESCING_WINDOW_MS\":{\"value\":null,\"layer\":\"default\"},"
            "\"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE\":{\"value\":null,\"layer\":\"default\"},"
            "\"EVENT_TRANSPORT_USE_REDIS_STREAMS\":{\"value\":\"false\",\"layer\":\"env\"}},"
            "\"generation\":0,\"last_reload\":null}");

  ASSERT_EQ(layers.apply_file({{kPercent, "5"}}).result, RuntimeReloadResult::kAccepted);
  RuntimeReload rejected = layers.apply_file({{kPercent, "\"x\""}});
  ASSERT_EQ(rejected.result, RuntimeReloadResult::kRejected);
  std::string error;
  append_json_string(error, rejected.error);
  EXPECT_EQ(layers.render(),
            "{\"variables\":{"
            "\"EVENT_COALESCING_WINDOW_MS\":{\"value\":null,\"layer\":\"default\"},"
            "\"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE\":{\"value\":\"5\",\"layer\":\"file\"},"
            "\"EVENT_TRANSPORT_USE_REDIS_STREAMS\":{\"value\":\"false\",\"layer\":\"env\"}},"
            "\"generation\":1,\"last_reload\":{\"layer\":\"file\",\"result\":\"rejected\","
            "\"error\":" +
                error + "}}");
}

}  // namespace
}  // namespace streamshift
