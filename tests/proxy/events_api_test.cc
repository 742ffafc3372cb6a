// The events API's documents, built from lag snapshots without Redis: the
// shapes of the consumer-lag monitoring document, byte for byte.
#include "proxy/events_api.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

StreamLag known(std::string name, int64_t lag, int64_t length, std::vector<std::string> consumers) {
  StreamLag s;
  s.name = std::move(name);
  s.lag = lag;
  s.length = length;
  s.groups = 1;
  s.group_exists = true;
  s.consumers = std::move(consumers);
  return s;
}

LagSnapshot mixed() {
  LagSnapshot snap;
  snap.redis_connected = true;
  snap.streams.push_back(known("s:low", 50, 50, {"instance-1", "instance-2"}));
  snap.streams.push_back(known("s:high", 1500, 1500, {}));
  StreamLag failed;
  failed.name = "bad";
  failed.failed = true;
  failed.error = "WRONGTYPE \"no\"";
  snap.streams.push_back(failed);
  StreamLag unknown;
  unknown.name = "deleted";
  unknown.lag_unknown_reason = "Redis reports no lag";
  unknown.length = 9;
  unknown.groups = 1;
  unknown.trimmed_unread = true;
  snap.streams.push_back(unknown);
  return snap;
}

TEST(EventsApi, ConsumerLagDocument) {
  EXPECT_EQ(consumer_lag_document(mixed()),
            "{\"streams\":{"
            "\"s:low\":{\"lag\":50,\"consumers\":[\"instance-1\",\"instance-2\"],"
            "\"trimmed_unread\":false},"
            "\"s:high\":{\"lag\":1500,\"consumers\":[],\"trimmed_unread\":false},"
            "\"bad\":{\"lag\":-1,\"error\":\"WRONGTYPE \\\"no\\\"\",\"consumers\":[],"
            "\"trimmed_unread\":false},"
            "\"deleted\":{\"lag\":null,\"lag_unknown\":\"Redis reports no lag\",\"consumers\":[],"
            "\"trimmed_unread\":true}},"
            "\"total_lag\":1550,\"stream_count\":4}");
  EXPECT_EQ(consumer_lag_document({}), "{\"streams\":{},\"total_lag\":0,\"stream_count\":0}");
}

TEST(EventsApi, StreamsDocument) {
  EXPECT_EQ(streams_document(mixed(), "g"),
            "{\"streams\":["
            "{\"name\":\"s:low\",\"length\":50,\"groups\":1,\"consumer_group\":\"g\"},"
            "{\"name\":\"s:high\",\"length\":1500,\"groups\":1,\"consumer_group\":\"g\"},"
            "{\"name\":\"bad\",\"length\":0,\"groups\":0,\"consumer_group\":\"g\","
            "\"error\":\"WRONGTYPE \\\"no\\\"\"},"
            "{\"name\":\"deleted\",\"length\":9,\"groups\":1,\"consumer_group\":\"g\"}]}");
}

TEST(EventsApi, HealthDocumentCountsStreamsByStatus) {
  EXPECT_EQ(health_document(mixed(), "signalr-consumers", "mixed"),
            "{\"status\":\"unhealthy\",\"redis_connected\":true,\"transport_mode\":\"mixed\","
            "\"streams\":{\"healthy\":1,\"degraded\":1,\"unhealthy\":2},\"max_lag\":1500,"
            "\"total_lag\":1550,\"consumer_group\":\"signalr-consumers\"}");
}

TEST(EventsApi, HealthEndsWithTheRedisPrimaryWhenGiven) {
  RedisPrimaryStatus::View found{"10.0.0.2:6379", 1, 0};
  std::string doc = health_document(mixed(), "g", "mixed", &found);
  EXPECT_EQ(doc.rfind(health_document(mixed(), "g", "mixed").substr(0, 60), 0), 0u) << doc;
  EXPECT_NE(doc.find(",\"consumer_group\":\"g\",\"redis\":{\"primary\":\"10.0.0.2:6379\","
                     "\"failovers\":1,\"seconds_without_primary\":0}}"),
            std::string::npos)
      << doc;
  RedisPrimaryStatus::View none{"", 0, 12.7};
  EXPECT_NE(
      health_document(mixed(), "g", "mixed", &none)
          .find("\"redis\":{\"primary\":null,\"failovers\":0,\"seconds_without_primary\":12}"),
      std::string::npos);
}

TEST(EventsApi, HealthSaysWhyRedisIsNotConnectedAndOnlyThen) {
  LagSnapshot down;
  down.redis_error = "certificate verify failed: unable to get local issuer certificate";
  StreamLag failed;
  failed.name = "s";
  failed.failed = true;
  failed.error = "redis disconnected";
  down.streams.push_back(failed);
  EXPECT_EQ(health_document(down, "g", "redis_streams"),
            "{\"status\":\"unhealthy\",\"redis_connected\":false,\"redis_error\":\"certificate "
            "verify failed: unable to get local issuer certificate\",\"transport_mode\":\"redis_"
            "streams\",\"streams\":{\"healthy\":0,\"degraded\":0,\"unhealthy\":1},\"max_lag\":0,"
            "\"total_lag\":0,\"consumer_group\":\"g\"}");
  LagSnapshot up = mixed();
  up.redis_error = "stale";
  EXPECT_EQ(health_document(up, "g", "mixed").find("redis_error"), std::string::npos);
}

TEST(EventsApi, HealthThresholdsAtTheirBoundaries) {
  struct Case {
    int64_t lag;
    bool trimmed;
    const char* status;
  };
  for (const Case& c : {Case{0, false, "healthy"}, Case{99, false, "healthy"},
                        Case{99, true, "degraded"}, Case{100, false, "degraded"},
                        Case{1000, false, "degraded"}, Case{1001, false, "unhealthy"}}) {
    LagSnapshot snap;
    snap.streams.push_back(known("s", c.lag, c.lag, {}));
    snap.streams.back().trimmed_unread = c.trimmed;
    std::string doc = health_document(snap, "g", "http");
    EXPECT_EQ(
        doc.rfind(std::string("{\"status\":\"") + c.status + "\",\"redis_connected\":false", 0), 0u)
        << c.lag << " " << doc;
  }
}

TEST(EventsApi, TransportModeFollowsTheRolloutSettings) {
  TransportSettings t;
  EXPECT_EQ(transport_mode(t), "http");
  t.use_redis_streams = true;
  EXPECT_EQ(transport_mode(t), "http");  // 0%
  t.redis_percentage = 10;
  EXPECT_EQ(transport_mode(t), "mixed");
  t.redis_percentage = 100;
  EXPECT_EQ(transport_mode(t), "redis_streams");
  t.dual_write = true;
  EXPECT_EQ(transport_mode(t), "dual_write");
}

TEST(EventsApi, AShardedStreamIsTheSumOfItsShardsWhichAreListedInside) {
  StreamShards layout({"s"}, 2);
  std::vector<StreamLag> physical = {known("s:{s0}", 3, 10, {"relay-a"}),
                                     known("s:{s1}", 4, 20, {"relay-b", "relay-a"})};
  LagSnapshot snap;
  snap.redis_connected = true;
  snap.streams = sum_shards(layout, physical);
  EXPECT_EQ(consumer_lag_document(snap),
            "{\"streams\":{\"s\":{\"lag\":7,\"consumers\":[\"relay-a\",\"relay-b\"],"
            "\"trimmed_unread\":false,\"shards\":{"
            "\"s:{s0}\":{\"lag\":3,\"consumers\":[\"relay-a\"],\"trimmed_unread\":false},"
            "\"s:{s1}\":{\"lag\":4,\"consumers\":[\"relay-b\",\"relay-a\"],\"trimmed_unread\":"
            "false}}}},\"total_lag\":7,\"stream_count\":1}");
  EXPECT_EQ(streams_document(snap, "g"),
            "{\"streams\":[{\"name\":\"s\",\"length\":30,\"groups\":1,\"consumer_group\":\"g\","
            "\"shards\":[{\"name\":\"s:{s0}\",\"length\":10,\"groups\":1,\"consumer_group\":"
            "\"g\"},{\"name\":\"s:{s1}\",\"length\":20,\"groups\":1,\"consumer_group\":\"g\"}]}]}");
  // One shard failing or unable to tell makes the stream's lag unknown.
  physical[1].lag.reset();
  physical[1].lag_unknown_reason = "nil";
  std::vector<StreamLag> unknown = sum_shards(layout, physical);
  EXPECT_FALSE(unknown[0].lag);
  EXPECT_EQ(unknown[0].lag_unknown_reason, "s:{s1}: nil");
  physical[0].failed = true;
  physical[0].error = "boom";
  std::vector<StreamLag> failed = sum_shards(layout, physical);
  EXPECT_TRUE(failed[0].failed);
  EXPECT_EQ(failed[0].error, "s:{s0}: boom");
  EXPECT_FALSE(failed[0].lag);
}

TEST(EventsApi, UnshardedStreamsAreReportedAsTheyAre) {
  std::vector<StreamLag> one = {known("s", 3, 10, {})};
  std::vector<StreamLag> same = sum_shards(StreamShards({"s"}, 1), one);
  ASSERT_EQ(same.size(), 1u);
  EXPECT_TRUE(same[0].shards.empty());
  EXPECT_EQ(*same[0].lag, 3);
}

}  // namespace
}  // namespace streamshift
