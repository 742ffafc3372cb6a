// RedisFailoverSet: a primary, a replica and three Sentinels that come up
// together, and a SIGKILLed primary that Sentinel replaces with the replica.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>

#include "tests/support/eventually.h"
#include "tests/support/redis_sentinel.h"

namespace streamshift::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

bool replica_has(RedisServer& replica, const std::string& key, const std::string& value) {
  return replica.command({"GET", key}).str == value;
}

TEST(RedisFailoverSet, ComesUpWithTheReplicaInSyncAndEverySentinelNamingThePrimary) {
  RedisFailoverSet set;
  ASSERT_TRUE(set.ready());

  EXPECT_EQ(set.replica().command({"ROLE"}).elements.at(0).str, "slave");
  EXPECT_EQ(set.primary().command({"SET", "k", "v1"}).str, "OK");
  EXPECT_TRUE(eventually([&] { return replica_has(set.replica(), "k", "v1"); }, seconds(10),
                         "the write on the replica"));

  std::vector<uint16_t> ports = set.sentinel_ports();
  ASSERT_EQ(ports.size(), 3u);
  for (size_t i = 0; i < ports.size(); ++i) {
    RedisValue addr = set.sentinel(i).command({"SENTINEL", "get-master-addr-by-name", "mymaster"});
    ASSERT_EQ(addr.elements.size(), 2u) << "Sentinel " << i << ": " << addr.str;
    EXPECT_EQ(addr.elements[1].str, std::to_string(set.primary().port())) << "Sentinel " << i;
  }
  EXPECT_EQ(set.current_primary_port(), set.primary().port());
  EXPECT_EQ(set.master_name(), "mymaster");
  EXPECT_EQ(set.sentinel_url(2), "redis-sentinel://127.0.0.1:" + std::to_string(ports[0]) +
                                     ",127.0.0.1:" + std::to_string(ports[1]) +
                                     ",127.0.0.1:" + std::to_string(ports[2]) + "/2#mymaster");
}

TEST(RedisFailoverSet, PromotesTheReplicaWhenThePrimaryIsKilled) {
  RedisFailoverSet set;
  ASSERT_TRUE(set.ready());
  ASSERT_EQ(set.primary().command({"SET", "before", "kill"}).str, "OK");
  ASSERT_TRUE(eventually([&] { return replica_has(set.replica(), "before", "kill"); }, seconds(10),
                         "the write on the replica"));
  const uint16_t replica_port = set.replica().port();
  EXPECT_EQ(set.replica().command({"SET", "x", "1"}).str.find("READONLY"), 0u);

  auto killed = Clock::now();
  set.kill_primary();
  Promotion promotion = set.wait_for_promotion(seconds(20));
  ASSERT_TRUE(promotion);
  ASSERT_EQ(promotion.port, replica_port);
  ASSERT_EQ(set.primary().port(), replica_port);
  ASSERT_TRUE(eventually(
      [&] {
        return set.primary().command({"SET", "after", "kill"}).str == "OK";
      },
      seconds(10), "a write on the new primary"));
  auto first_write = std::chrono::duration_cast<milliseconds>(Clock::now() - killed);
  std::cout << "[ measured ] kill -> first Sentinel names the new primary "
            << promotion.first_sentinel.count() << " ms, all Sentinels "
            << promotion.all_sentinels.count() << " ms, first write " << first_write.count()
            << " ms\n";
  EXPECT_LT(promotion.first_sentinel, seconds(10));

  EXPECT_EQ(set.primary().command({"GET", "before"}).str, "kill");
  EXPECT_EQ(set.current_primary_port(), replica_port);

  // The killed node comes back as a replica of the new primary.
  const uint16_t killed_port = set.replica().port();
  ASSERT_TRUE(set.rejoin());
  EXPECT_EQ(set.replica().port(), killed_port);
  EXPECT_EQ(set.replica().command({"ROLE"}).elements.at(0).str, "slave");
  EXPECT_EQ(set.primary().command({"SET", "after", "rejoin"}).str, "OK");
  EXPECT_TRUE(eventually([&] { return replica_has(set.replica(), "after", "rejoin"); }, seconds(10),
                         "a write on the rejoined replica"));
  EXPECT_EQ(set.replica().command({"GET", "before"}).str, "kill");
}

}  // namespace
}  // namespace streamshift::testing
