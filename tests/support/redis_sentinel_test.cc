// sentinel_url(): the REDIS_URL form the Sentinel tests hand to streamshift.
#include "tests/support/redis_sentinel.h"

#include <gtest/gtest.h>

namespace streamshift::testing {
namespace {

TEST(SentinelUrl, ListsEverySentinelThenTheDbThenTheMasterName) {
  EXPECT_EQ(sentinel_url({26379, 26380, 26381}, 0, "mymaster"),
            "redis-sentinel://127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381/0#mymaster");
  EXPECT_EQ(sentinel_url({40001}, 3, "events", "rediss-sentinel"),
            "rediss-sentinel://127.0.0.1:40001/3#events");
}

}  // namespace
}  // namespace streamshift::testing
