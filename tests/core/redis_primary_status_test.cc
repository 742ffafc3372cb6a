// The process's view of the Redis primary over an injected clock, and its
// metrics.
#include "core/redis_primary_status.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "core/redis_primary_metrics.h"

namespace streamshift {
namespace {

using std::chrono::seconds;

struct FakeClock {
  std::chrono::steady_clock::time_point now{seconds(1000)};
  RedisPrimaryStatus::Clock clock() {
    return [this] { return now; };
  }
};

TEST(RedisPrimaryStatus, AFailoverIsANewAddressAfterTheFirstCountedOnce) {
  FakeClock t;
  RedisPrimaryStatus s(t.clock());
  EXPECT_EQ(s.view().primary, "");
  s.primary_at("10.0.0.1:6379");
  s.primary_at("10.0.0.1:6379");  // a second worker's client
  EXPECT_EQ(s.view().primary, "10.0.0.1:6379");
  EXPECT_EQ(s.view().failovers, 0u);
  s.primary_at("10.0.0.2:6379");  // the Sentinels' +switch-master
  s.primary_at("10.0.0.2:6379");  // then each client's connection to it
  s.primary_at("10.0.0.2:6379");
  EXPECT_EQ(s.view().primary, "10.0.0.2:6379");
  EXPECT_EQ(s.view().failovers, 1u);
}

TEST(RedisPrimaryStatus, TimeWithoutPrimaryRunsWhileNoClientIsReady) {
  FakeClock t;
  RedisPrimaryStatus s(t.clock());
  t.now += seconds(5);
  EXPECT_EQ(s.view().seconds_without_primary, 0);  // no client started yet
  s.watching();
  t.now += seconds(2);
  EXPECT_EQ(s.view().seconds_without_primary, 2);
  s.ready_change(+1);
  s.ready_change(+1);  // two clients
  t.now += seconds(10);
  EXPECT_EQ(s.view().seconds_without_primary, 0);
  s.ready_change(-1);  // one still has a connection
  t.now += seconds(3);
  EXPECT_EQ(s.view().seconds_without_primary, 0);
  s.ready_change(-1);
  t.now += seconds(4);
  EXPECT_EQ(s.view().seconds_without_primary, 4);
  s.watching();  // another client starting does not reset it
  t.now += seconds(1);
  EXPECT_EQ(s.view().seconds_without_primary, 5);
  s.ready_change(+1);
  EXPECT_EQ(s.view().seconds_without_primary, 0);
}

TEST(RedisPrimaryMetrics, ThreeFamiliesTheAddressALabel) {
  FakeClock t;
  auto s = std::make_shared<RedisPrimaryStatus>(t.clock());
  RedisPrimaryMetrics metrics(s);
  prometheus::TextSerializer text;
  std::string before = text.Serialize(metrics.Collect());
  EXPECT_NE(before.find("streamshift_redis_failovers_total 0"), std::string::npos) << before;
  EXPECT_EQ(before.find("streamshift_redis_primary_info{"), std::string::npos) << before;
  s->watching();
  s->primary_at("10.0.0.1:6379");
  s->primary_at("10.0.0.2:6379");
  t.now += seconds(3);
  std::string after = text.Serialize(metrics.Collect());
  EXPECT_NE(after.find("# TYPE streamshift_redis_failovers_total counter"), std::string::npos);
  EXPECT_NE(after.find("streamshift_redis_failovers_total 1"), std::string::npos) << after;
  EXPECT_NE(after.find("streamshift_redis_primary_info{address=\"10.0.0.2:6379\"} 1"),
            std::string::npos)
      << after;
  EXPECT_NE(after.find("streamshift_redis_seconds_without_primary 3"), std::string::npos) << after;
}

TEST(RedisPrimaryMetrics, ClusterEventsAreCountersTheRedirectsOneFamilyByKind) {
  auto s = std::make_shared<RedisPrimaryStatus>();
  RedisPrimaryMetrics metrics(s);
  s->cluster_event(RedisClusterEvent::kMoved);
  s->cluster_event(RedisClusterEvent::kAsk);
  s->cluster_event(RedisClusterEvent::kAsk);
  s->cluster_event(RedisClusterEvent::kRetry);
  s->cluster_event(RedisClusterEvent::kTopologyRefresh);
  std::vector<prometheus::MetricFamily> families = metrics.Collect();
  size_t redirect_families = 0;
  for (const auto& f : families)
    redirect_families += f.name == "streamshift_redis_cluster_redirects_total";
  EXPECT_EQ(redirect_families, 1u);
  std::string text = prometheus::TextSerializer().Serialize(families);
  EXPECT_NE(text.find("streamshift_redis_cluster_redirects_total{kind=\"moved\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("streamshift_redis_cluster_redirects_total{kind=\"ask\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("streamshift_redis_cluster_retries_total 1"), std::string::npos) << text;
  EXPECT_NE(text.find("streamshift_redis_cluster_topology_refreshes_total 1"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace streamshift
