// The relay's lag gauges through the real binary and a real redis-server:
// refreshed on a schedule, and dropped, never frozen, when a refresh fails.
#include <gtest/gtest.h>

#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/stream_entries.h"
#include "tests/support/test_upstream.h"

namespace streamshift::testing {
namespace {

using std::chrono::seconds;

constexpr const char* kLag =
    "event_consumer_lag{consumer_group=\"signalr-consumers\",stream=\"events:chat\"}";
constexpr const char* kDepth = "event_queue_depth{stream=\"events:chat\"}";

TEST(RelayMetrics, LagAndDepthAreRefreshedAndDroppedWhenRedisStopsAnswering) {
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  for (int i = 0; i < 3; ++i) xadd(redis, "e" + std::to_string(i), "r", "events:chat", "{}");
  TestUpstream target;
  RelayProcess relay(redis.url(), target.port(),
                     {{"STREAMSHIFT_RELAY_LAG_INTERVAL_MS", "200"},
                      {"STREAMSHIFT_RELAY_REDIS_TIMEOUT_MS", "300"},
                      {"STREAMSHIFT_STREAMS", "events:chat"}});
  ASSERT_TRUE(relay.ready()) << relay.process().output();
  ASSERT_TRUE(target.wait_for_requests(3, seconds(10)));
  // Delivered: the lag the relay exports falls to 0 by itself.
  ASSERT_TRUE(eventually(
      [&] {
        return metric_sample(relay.admin_port(), kLag) == 0.0 &&
               metric_sample(relay.admin_port(), kDepth) == 3.0;
      },
      seconds(10)))
      << http_get(relay.admin_port(), "/metrics")->body;
  // Redis stops answering: the series go, rather than keep their last value.
  redis.pause();
  EXPECT_TRUE(eventually(
      [&] {
        return !metric_sample(relay.admin_port(), kLag) &&
               !metric_sample(relay.admin_port(), kDepth);
      },
      seconds(10)))
      << http_get(relay.admin_port(), "/metrics")->body;
  redis.resume();
  EXPECT_TRUE(
      eventually([&] { return metric_sample(relay.admin_port(), kLag) == 0.0; }, seconds(10)));
}

}  // namespace
}  // namespace streamshift::testing
