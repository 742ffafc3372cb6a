// The relay's environment: defaults, overrides, refusals.
#include "relay/relay_settings.h"

#include <gtest/gtest.h>

#include "tests/support/env_map.h"

namespace streamshift {
namespace {

TEST(RelaySettings, DefaultsFollowTheIssueAndTheGuide) {
  EnvReader env = testing::env_from({});
  RelaySettings s = load_relay_settings(env);
  ASSERT_TRUE(env.ok()) << env.error_report();
  EXPECT_EQ(s.group, "signalr-consumers");
  EXPECT_EQ(s.read_count, 100);
  EXPECT_EQ(s.max_deliveries, 5);
  EXPECT_EQ(s.dlq_stream, "events:dlq");
  EXPECT_EQ(s.dedup_ttl_s, 300u);
  EXPECT_EQ(s.streams.size(), 4u);
  EXPECT_FALSE(s.consumer.empty());  // the host name
  EXPECT_EQ(s.target.port, 5000);
  EXPECT_EQ(s.admin_listen.port, 15002);
  EXPECT_GT(s.max_held(), static_cast<size_t>(s.read_count));
}

TEST(RelaySettings, RedissCarriesTheTlsContextOfBothConnections) {
  EnvReader plain = testing::env_from({});
  EXPECT_EQ(load_relay_settings(plain).redis_tls, nullptr);
  EnvReader env = testing::env_from(
      {{"REDIS_URL", "rediss://redis:6380"}, {"REDIS_TLS_INSECURE_SKIP_VERIFY", "true"}});
  RelaySettings s = load_relay_settings(env);
  ASSERT_TRUE(env.ok()) << env.error_report();
  ASSERT_NE(s.redis_tls, nullptr);
  EXPECT_FALSE(s.redis_tls->verify());
  EnvReader bad = testing::env_from(
      {{"REDIS_URL", "rediss://redis"}, {"REDIS_TLS_KEY_FILE", "/nonexistent.key"}});
  EXPECT_EQ(load_relay_settings(bad).redis_tls, nullptr);
  ASSERT_EQ(bad.errors().size(), 1u);
  EXPECT_EQ(bad.errors()[0].name, "REDIS_TLS_CERT_FILE");
}

// The relay, replay and dlq all build their clients here.
TEST(RelaySettings, RedisOptionsCarryTheEndpointTlsAndConnectTimeout) {
  EnvReader env = testing::env_from({{"REDIS_URL", "rediss://redis.example:6390"},
                                     {"REDIS_TLS_INSECURE_SKIP_VERIFY", "true"},
                                     {"REDIS_CONNECT_TIMEOUT_MS", "777"}});
  RelaySettings s = load_relay_settings(env);
  ASSERT_TRUE(env.ok()) << env.error_report();
  RedisOptions o = relay_redis_options(s, "replay");
  EXPECT_EQ(o.name, "replay");
  EXPECT_EQ(o.endpoint.host, "redis.example");
  EXPECT_EQ(o.endpoint.port, 6390);
  EXPECT_EQ(o.tls, s.redis_tls);
  EXPECT_NE(o.tls, nullptr);
  EXPECT_EQ(o.connect_timeout_ms, 777u);
  EXPECT_EQ(o.connections, 1u);
}

TEST(RelaySettings, OverridesAreRead) {
  EnvReader env = testing::env_from({{"STREAMSHIFT_RELAY_TARGET_URL", "http://signalr:8080/api"},
                                     {"STREAMSHIFT_CONSUMER_NAME", "pod-7"},
                                     {"STREAMSHIFT_STREAMS", "a, b"},
                                     {"STREAMSHIFT_DEDUP_TTL_S", "0"},
                                     {"STREAMSHIFT_RELAY_GROUP_START", "$"}});
  RelaySettings s = load_relay_settings(env);
  ASSERT_TRUE(env.ok()) << env.error_report();
  EXPECT_EQ(s.target.host, "signalr");
  EXPECT_EQ(s.target.path_prefix, "/api");
  EXPECT_EQ(s.consumer, "pod-7");
  EXPECT_EQ(s.streams, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s.dedup_ttl_s, 0u);
  EXPECT_EQ(s.group_start_id, "$");
}

TEST(RelaySettings, BadValuesAreAllNamed) {
  EnvReader env = testing::env_from({{"STREAMSHIFT_RELAY_TARGET_URL", "https://x"},
                                     {"STREAMSHIFT_MAX_DELIVERIES", "0"},
                                     {"STREAMSHIFT_DLQ_STREAM", ""},
                                     {"STREAMSHIFT_RELAY_RETRY_INITIAL_MS", "500"},
                                     {"STREAMSHIFT_RELAY_RETRY_MAX_MS", "100"}});
  load_relay_settings(env);
  std::string report = env.error_report();
  for (const char* name : {"STREAMSHIFT_RELAY_TARGET_URL", "STREAMSHIFT_MAX_DELIVERIES",
                           "STREAMSHIFT_DLQ_STREAM", "STREAMSHIFT_RELAY_RETRY_MAX_MS"}) {
    EXPECT_NE(report.find(name), std::string::npos) << name << "\n" << report;
  }
}

TEST(RelaySettings, ReadsTheResponseBodyLimitItsPoolUses) {
  EnvReader defaults = testing::env_from({});
  EXPECT_EQ(load_relay_settings(defaults).max_response_bytes, 8u * 1024 * 1024);
  EnvReader env = testing::env_from({{"STREAMSHIFT_MAX_RESPONSE_BYTES", "4096"}});
  EXPECT_EQ(load_relay_settings(env).max_response_bytes, 4096u);
}

}  // namespace
TEST(RelaySettings, ShardsExpandEveryStreamAndTagTheMarks) {
  EnvReader plain = testing::env_from({{"STREAMSHIFT_STREAMS", "a,b"}});
  RelaySettings one = load_relay_settings(plain);
  ASSERT_TRUE(plain.ok()) << plain.error_report();
  EXPECT_EQ(one.streams, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(one.read_groups(), (std::vector<std::vector<size_t>>{{0, 1}}));
  EXPECT_FALSE(one.tagged_marks());

  EnvReader env =
      testing::env_from({{"STREAMSHIFT_STREAMS", "a,b"}, {"EVENT_TRANSPORT_STREAM_SHARDS", "2"}});
  RelaySettings s = load_relay_settings(env);
  ASSERT_TRUE(env.ok()) << env.error_report();
  EXPECT_EQ(s.logical_streams, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s.streams, (std::vector<std::string>{"a:{s0}", "a:{s1}", "b:{s0}", "b:{s1}"}));
  EXPECT_EQ(s.read_groups(), (std::vector<std::vector<size_t>>{{0, 2}, {1, 3}}));
  EXPECT_TRUE(s.tagged_marks());

  EnvReader bad = testing::env_from(
      {{"EVENT_TRANSPORT_STREAM_SHARDS", "2"}, {"STREAMSHIFT_DEDUP_PREFIX", "x{y}:"}});
  load_relay_settings(bad);
  ASSERT_EQ(bad.errors().size(), 1u) << bad.error_report();
  EXPECT_EQ(bad.errors()[0].name, "STREAMSHIFT_DEDUP_PREFIX");
}

// On a cluster with one shard the marks take the stream's hashed part as
// their tag: a name whose braces make no tag of their own would split them.
TEST(RelaySettings, OnAClusterAStreamWhoseBracesMakeNoTagIsRefused) {
  for (const char* name : {"a}b", "a{}b", "x{y"}) {
    EnvReader env = testing::env_from(
        {{"REDIS_URL", "redis-cluster://127.0.0.1:7000"}, {"STREAMSHIFT_STREAMS", name}});
    load_relay_settings(env);
    ASSERT_EQ(env.errors().size(), 1u) << name << ": " << env.error_report();
    EXPECT_EQ(env.errors()[0].name, "STREAMSHIFT_STREAMS");
  }
  EnvReader tagged = testing::env_from({{"REDIS_URL", "redis-cluster://127.0.0.1:7000"},
                                        {"STREAMSHIFT_STREAMS", "events:{chat},b"}});
  load_relay_settings(tagged);
  EXPECT_TRUE(tagged.ok()) << tagged.error_report();
  EnvReader standalone = testing::env_from({{"STREAMSHIFT_STREAMS", "a}b"}});
  load_relay_settings(standalone);
  EXPECT_TRUE(standalone.ok()) << standalone.error_report();
}

namespace {

TEST(RelaySettings, OrderingIsRoomUnlessNoneIsAskedForAndAnythingElseIsRefused) {
  EnvReader defaults = testing::env_from({});
  EXPECT_EQ(load_relay_settings(defaults).ordering, RelayOrdering::kRoom);
  EnvReader none = testing::env_from({{"STREAMSHIFT_RELAY_ORDERING", "none"}});
  EXPECT_EQ(load_relay_settings(none).ordering, RelayOrdering::kNone);
  ASSERT_TRUE(none.ok()) << none.error_report();
  EnvReader room = testing::env_from({{"STREAMSHIFT_RELAY_ORDERING", "room"}});
  EXPECT_EQ(load_relay_settings(room).ordering, RelayOrdering::kRoom);
  ASSERT_TRUE(room.ok()) << room.error_report();
  for (const char* value : {"", "rooms", "off", "parallel", "0"}) {
    EnvReader bad = testing::env_from({{"STREAMSHIFT_RELAY_ORDERING", value}});
    EXPECT_EQ(load_relay_settings(bad).ordering, RelayOrdering::kRoom) << value;
    ASSERT_EQ(bad.errors().size(), 1u) << value << ": " << bad.error_report();
    EXPECT_EQ(bad.errors()[0].name, "STREAMSHIFT_RELAY_ORDERING");
    EXPECT_NE(bad.error_report().find("one of room none"), std::string::npos) << bad.error_report();
  }
}

}  // namespace
}  // namespace streamshift
