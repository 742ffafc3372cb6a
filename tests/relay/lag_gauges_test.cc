// The relay's lag gauges with a fake Redis: set from XLEN and XINFO GROUPS,
// removed (never frozen) when a look-up fails or Redis cannot tell.
#include "relay/lag_gauges.h"

#include <gtest/gtest.h>

#include "tests/relay/relay_fakes.h"

namespace streamshift {
namespace {

class LagGaugesTest : public fakes::PartsTest {
 protected:
  std::optional<double> lag(const std::string& stream) {
    Labels labels{{"stream", stream}, {"consumer_group", "g"}};
    if (!metrics_.consumer_lag.Has(labels)) return std::nullopt;
    return metrics_.consumer_lag.Add(labels).Value();
  }
  std::optional<double> depth(const std::string& stream) {
    Labels labels{{"stream", stream}};
    if (!metrics_.queue_depth.Has(labels)) return std::nullopt;
    return metrics_.queue_depth.Add(labels).Value();
  }
  static std::string groups_reply(const std::string& lag) {
    return resp::array(
        {resp::array(
             {resp::bulk("name"), resp::bulk("other"), resp::bulk("lag"), resp::integer(99)}),
         resp::array({resp::bulk("name"), resp::bulk("g"), resp::bulk("lag"), lag})});
  }

  LagGauges lag_{redis_, clock_, settings_, metrics_};
};

TEST_F(LagGaugesTest, EveryIntervalEachStreamsDepthAndOurGroupsLagAreSet) {
  lag_.start();
  clock_.advance(settings_.lag_interval_ms - 1);
  EXPECT_FALSE(redis_.has("XLEN"));
  clock_.advance(1);
  redis_.answer("XLEN events:a", resp::integer(12));
  redis_.answer("XINFO GROUPS events:a", groups_reply(resp::integer(3)));
  EXPECT_EQ(depth("events:a"), 12);
  EXPECT_EQ(lag("events:a"), 3);
  EXPECT_TRUE(redis_.has("XLEN events:b"));
  EXPECT_TRUE(redis_.has("XINFO GROUPS events:b"));
}

TEST_F(LagGaugesTest, AFailedLookUpOrANilLagRemovesTheSeries) {
  lag_.refresh();
  redis_.answer("XLEN events:a", resp::integer(12));
  redis_.answer("XINFO GROUPS events:a", groups_reply(resp::integer(3)));
  lag_.refresh();
  redis_.fail("XLEN events:a", RedisStatus::kTimeout);
  redis_.answer("XINFO GROUPS events:a", groups_reply(resp::nil()));
  EXPECT_EQ(depth("events:a"), std::nullopt);
  EXPECT_EQ(lag("events:a"), std::nullopt);
  lag_.refresh();
  redis_.answer("XINFO GROUPS events:a", groups_reply(resp::integer(1)));
  EXPECT_EQ(lag("events:a"), 1);
  lag_.refresh();
  redis_.answer("XINFO GROUPS events:a", resp::error("ERR no such key"));
  EXPECT_EQ(lag("events:a"), std::nullopt);
}

TEST_F(LagGaugesTest, StoppedItNoLongerRefreshesByTimeAndClosedNotAtAll) {
  lag_.start();
  lag_.stop();
  clock_.advance(settings_.lag_interval_ms * 2);
  EXPECT_FALSE(redis_.has("XLEN"));
  lag_.refresh();  // as when the groups come up while draining
  EXPECT_TRUE(redis_.has("XLEN"));
  size_t sent = redis_.sent().size();
  lag_.close();
  lag_.refresh();
  EXPECT_EQ(redis_.sent().size(), sent);
}

TEST_F(LagGaugesTest, ShardedStreamsAreReportedAsTheSumOverTheirShards) {
  settings_.logical_streams = {"events:a"};
  settings_.stream_shards = 2;
  settings_.streams = settings_.shard_layout().physical();
  lag_.refresh();
  redis_.answer("XLEN events:a:{s0}", resp::integer(5));
  EXPECT_EQ(depth("events:a"), std::nullopt);  // not before every shard answered
  redis_.answer("XLEN events:a:{s1}", resp::integer(7));
  EXPECT_EQ(depth("events:a"), 12);
  EXPECT_EQ(depth("events:a:{s0}"), std::nullopt);  // no series per shard
  redis_.answer("XINFO GROUPS events:a:{s0}", groups_reply(resp::integer(2)));
  redis_.answer("XINFO GROUPS events:a:{s1}", groups_reply(resp::integer(3)));
  EXPECT_EQ(lag("events:a"), 5);
  // One shard that cannot tell makes the sum unknown: the series goes.
  lag_.refresh();
  redis_.answer("XLEN events:a:{s0}", resp::integer(5));
  redis_.fail("XLEN events:a:{s1}", RedisStatus::kTimeout);
  redis_.answer("XINFO GROUPS events:a:{s0}", groups_reply(resp::integer(2)));
  redis_.answer("XINFO GROUPS events:a:{s1}", groups_reply(resp::nil()));
  EXPECT_EQ(depth("events:a"), std::nullopt);
  EXPECT_EQ(lag("events:a"), std::nullopt);
}

}  // namespace
}  // namespace streamshift
