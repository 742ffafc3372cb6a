// The token bucket over an injected clock.
#include "core/token_bucket.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

TEST(TokenBucket, OneTokenAtFirstThenOnePerInterval) {
  TokenBucket bucket(10, 1, 1000);  // 10 per second: one every 100 ms
  EXPECT_TRUE(bucket.take(1000));
  EXPECT_FALSE(bucket.take(1000));
  EXPECT_EQ(bucket.wait_ms(1000), 100u);
  EXPECT_FALSE(bucket.take(1050));
  EXPECT_EQ(bucket.wait_ms(1050), 50u);
  EXPECT_TRUE(bucket.take(1100));
  EXPECT_FALSE(bucket.take(1100));
}

TEST(TokenBucket, IdleTimeFillsNoMoreThanTheBurst) {
  TokenBucket bucket(10, 3, 0);
  int taken = 0;
  while (bucket.take(60000)) ++taken;
  EXPECT_EQ(taken, 3);
  EXPECT_EQ(bucket.wait_ms(60000), 100u);
}

TEST(TokenBucket, StartsInAWindowStayWithinBurstPlusRateTimesWindow) {
  TokenBucket bucket(250, 2.5, 0);
  int taken = 0;
  for (uint64_t now = 0; now <= 2000; ++now) {
    while (bucket.take(now)) ++taken;
  }
  EXPECT_LE(taken, 2 + 250 * 2);
  EXPECT_GE(taken, 250 * 2);
}

TEST(TokenBucket, ClockGoingBackwardsAddsNothing) {
  TokenBucket bucket(1, 1, 5000);
  EXPECT_TRUE(bucket.take(5000));
  EXPECT_FALSE(bucket.take(4000));
  EXPECT_EQ(bucket.wait_ms(4000), 1000u);
}

}  // namespace
}  // namespace streamshift
