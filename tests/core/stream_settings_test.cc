// The contract settings both programs read through core/stream_settings.h.
#include "core/stream_settings.h"

#include <gtest/gtest.h>

#include "tests/support/env_map.h"

namespace streamshift {
namespace {

constexpr StreamSettingsHelp kHelp{.streams = "the streams", .group = "the group"};

TEST(StreamSettings, DefaultsAreTheFourStreamsAndTheSharedGroup) {
  EnvReader env = testing::env_from({});
  StreamSettings s = load_stream_settings(env, kHelp);
  ASSERT_TRUE(env.ok()) << env.error_report();
  EXPECT_EQ(s.streams, (std::vector<std::string>{"events:chat", "events:ticket",
                                                 "events:notification", "events:remote"}));
  EXPECT_EQ(s.group, "signalr-consumers");
}

TEST(StreamSettings, ReadsOverridesAndRecordsTheProgramsHelp) {
  EnvReader env = testing::env_from(
      {{"STREAMSHIFT_STREAMS", " a ,b,, "}, {"EVENT_TRANSPORT_CONSUMER_GROUP", "relays"}});
  StreamSettings s = load_stream_settings(env, kHelp);
  ASSERT_TRUE(env.ok()) << env.error_report();
  EXPECT_EQ(s.streams, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s.group, "relays");
  ASSERT_EQ(env.entries().size(), 2u);
  EXPECT_EQ(env.entries()[0].name, "STREAMSHIFT_STREAMS");
  EXPECT_EQ(env.entries()[0].help, "the streams");
  EXPECT_EQ(env.entries()[1].name, "EVENT_TRANSPORT_CONSUMER_GROUP");
  EXPECT_EQ(env.entries()[1].help, "the group");
}

TEST(StreamSettings, RefusesNoStreamsAndAnEmptyGroup) {
  EnvReader env =
      testing::env_from({{"STREAMSHIFT_STREAMS", " , "}, {"EVENT_TRANSPORT_CONSUMER_GROUP", ""}});
  load_stream_settings(env, kHelp);
  ASSERT_EQ(env.errors().size(), 2u) << env.error_report();
  EXPECT_EQ(env.errors()[0].name, "STREAMSHIFT_STREAMS");
  EXPECT_EQ(env.errors()[1].name, "EVENT_TRANSPORT_CONSUMER_GROUP");
}

TEST(StreamSettings, RedisUrlAndConnectTimeoutAreReadAndChecked) {
  EnvReader defaults = testing::env_from({});
  std::optional<RedisEndpoint> url = load_redis_url(defaults);
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 6379);
  EXPECT_EQ(load_redis_connect_timeout_ms(defaults), 1000u);

  EnvReader bad = testing::env_from({{"REDIS_URL", "http://x"}, {"REDIS_CONNECT_TIMEOUT_MS", "5"}});
  EXPECT_FALSE(load_redis_url(bad));
  load_redis_connect_timeout_ms(bad);
  ASSERT_EQ(bad.errors().size(), 2u) << bad.error_report();
}

}  // namespace
}  // namespace streamshift
