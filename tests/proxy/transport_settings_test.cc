#include "proxy/transport_settings.h"

#include <gtest/gtest.h>

#include "tests/support/env_map.h"

namespace streamshift {
namespace {

using testing::env_from;

TEST(TransportSettings, DefaultsAreTheGuides) {
  auto env = env_from({});
  TransportSettings t = load_transport_settings(env);
  ASSERT_TRUE(env.ok()) << env.error_report();
  EXPECT_FALSE(t.use_redis_streams);
  EXPECT_EQ(t.redis_percentage, 0);
  EXPECT_TRUE(t.fallback_to_http);
  EXPECT_EQ(t.stream_max_len, 10000);
  EXPECT_EQ(t.publish_timeout_ms, 100u);
  EXPECT_EQ(t.rollout_key, RolloutKey::kRoom);
  EXPECT_EQ(t.ack_status, 202);
  EXPECT_EQ(t.redis_max_connections, 30);
}

TEST(TransportSettings, RedissCarriesTheTlsContextEveryConnectionUses) {
  auto plain = env_from({});
  EXPECT_EQ(load_transport_settings(plain).redis_tls, nullptr);
  auto env = env_from({{"REDIS_URL", "rediss://:pw@redis:6380/1"}});
  TransportSettings t = load_transport_settings(env);
  ASSERT_TRUE(env.ok()) << env.error_report();
  EXPECT_TRUE(t.redis.tls);
  ASSERT_NE(t.redis_tls, nullptr);
  EXPECT_TRUE(t.redis_tls->verify());
  auto bad = env_from({{"REDIS_URL", "rediss://redis"}, {"REDIS_TLS_CA_FILE", "/nonexistent"}});
  EXPECT_EQ(load_transport_settings(bad).redis_tls, nullptr);
  ASSERT_EQ(bad.errors().size(), 1u);
  EXPECT_EQ(bad.errors()[0].name, "REDIS_TLS_CA_FILE");
}

TEST(TransportSettings, QuickstartAliasIsAccepted) {
  auto env = env_from({{"EVENT_TRANSPORT_REDIS_PERCENTAGE", "10"}});
  EXPECT_EQ(load_transport_settings(env).redis_percentage, 10);
  EXPECT_TRUE(env.ok());
  auto same = env_from({{"EVENT_TRANSPORT_REDIS_PERCENTAGE", "10"},
                        {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "10"}});
  load_transport_settings(same);
  EXPECT_TRUE(same.ok());
}

TEST(TransportSettings, DifferingAliasRefusesToStart) {
  auto env = env_from({{"EVENT_TRANSPORT_REDIS_PERCENTAGE", "10"},
                       {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "50"}});
  load_transport_settings(env);
  ASSERT_EQ(env.errors().size(), 1u);
  EXPECT_EQ(env.errors()[0].name, "EVENT_TRANSPORT_REDIS_PERCENTAGE");
}

TEST(TransportSettings, GuideRangesAreEnforced) {
  auto env = env_from({{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "101"},
                       {"EVENT_TRANSPORT_STREAM_MAX_LEN", "999"},
                       {"EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "5001"},
                       {"EVENT_TRANSPORT_ROLLOUT_KEY", "user"},
                       {"REDIS_URL", "redis://:hunter2@h:99999"}});
  load_transport_settings(env);
  std::string report = env.error_report();
  EXPECT_EQ(env.errors().size(), 5u) << report;
  EXPECT_NE(report.find("EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE=\"101\": invalid, allowed: an "
                        "integer from 0 to 100"),
            std::string::npos);
  EXPECT_NE(report.find("an integer from 1000 to 100000"), std::string::npos);
  EXPECT_NE(report.find("an integer from 10 to 5000"), std::string::npos);
  EXPECT_EQ(report.find("hunter2"), std::string::npos) << report;
}

TEST(TransportSettings, ConnectionsAreSplitOverWorkers) {
  TransportSettings t;
  t.redis_max_connections = 30;
  EXPECT_EQ(t.redis_connections_per_worker(1), 4u);
  EXPECT_EQ(t.redis_connections_per_worker(16), 1u);
  t.redis_max_connections = 2;
  EXPECT_EQ(t.redis_connections_per_worker(1), 2u);
}

}  // namespace
}  // namespace streamshift
