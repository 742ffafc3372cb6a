// What the locator reads from Redis and the Sentinels: ROLE, SENTINEL
// get-master-addr-by-name and +switch-master, as pure functions.
#include "core/redis_sentinel_locator.h"

#include <gtest/gtest.h>

#include "tests/core/resp.h"

namespace streamshift {
namespace {

TEST(RedisSentinelLocator, RoleIsTheFirstElementOfRolesReply) {
  resp::Reply master =
      resp::parse(resp::array({resp::bulk("master"), resp::integer(42), resp::array({})}));
  EXPECT_EQ(redis_role(master.get()), "master");
  resp::Reply replica =
      resp::parse(resp::array({resp::bulk("slave"), resp::bulk("127.0.0.1"), resp::integer(6379),
                               resp::bulk("connected"), resp::integer(42)}));
  EXPECT_EQ(redis_role(replica.get()), "slave");
  EXPECT_EQ(redis_role(resp::parse(resp::status("OK")).get()), "");
  EXPECT_EQ(redis_role(resp::parse(resp::array({})).get()), "");
  EXPECT_EQ(redis_role(resp::parse(resp::array({resp::integer(1)})).get()), "");
  EXPECT_EQ(redis_role(nullptr), "");
}

TEST(RedisSentinelLocator, MasterAddressOrWhyThereIsNone) {
  std::string why;
  auto addr = parse_master_addr(resp::parse(resp::bulks({"10.0.0.7", "6380"})).get(), "m", &why);
  ASSERT_TRUE(addr) << why;
  EXPECT_EQ(*addr, (RedisHost{"10.0.0.7", 6380}));

  EXPECT_FALSE(parse_master_addr(resp::parse(resp::nil_array()).get(), "cache", &why));
  EXPECT_EQ(why, "sentinel: no master named 'cache'");
  for (const std::string& odd : {resp::bulks({"10.0.0.7"}), resp::bulks({"10.0.0.7", "0"}),
                                 resp::bulks({"10.0.0.7", "70000"}), resp::bulks({"", "1"}),
                                 resp::bulks({"h", "12x"}), resp::integer(3)}) {
    why.clear();
    EXPECT_FALSE(parse_master_addr(resp::parse(odd).get(), "m", &why)) << odd;
    EXPECT_EQ(why, "sentinel: get-master-addr-by-name answered something else than [ip, port]");
  }
}

TEST(RedisSentinelLocator, SwitchMasterForOurNameOnly) {
  auto next = parse_switch_master("mymaster 127.0.0.1 6379 127.0.0.1 6380", "mymaster");
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, (RedisHost{"127.0.0.1", 6380}));
  EXPECT_FALSE(parse_switch_master("other 127.0.0.1 6379 127.0.0.1 6380", "mymaster"));
  EXPECT_FALSE(parse_switch_master("mymaster 127.0.0.1 6379 127.0.0.1", "mymaster"));
  EXPECT_FALSE(parse_switch_master("mymaster 127.0.0.1 6379 127.0.0.1 x", "mymaster"));
  EXPECT_FALSE(parse_switch_master("", "mymaster"));
}

}  // namespace
}  // namespace streamshift
