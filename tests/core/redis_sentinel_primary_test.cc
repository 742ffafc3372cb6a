// The locator's view of the primary: an answer to a query sent before a
// +switch-master must not bring the old primary back.
#include "core/redis_sentinel_primary.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

using Answer = RedisSentinelPrimary::Answer;
const RedisHost kOld{"10.0.0.1", 6379};
const RedisHost kNew{"10.0.0.2", 6379};

TEST(RedisSentinelPrimary, AnAnswerFromBeforeASwitchIsStaleAndIgnored) {
  RedisSentinelPrimary p;
  ASSERT_EQ(p.answered(p.asked(), kOld), Answer::kTaken);
  uint64_t token = p.asked();  // a query leaves...
  EXPECT_TRUE(p.switched(kNew));
  // ...and is answered after the switch, by a Sentinel that had not heard.
  EXPECT_EQ(p.answered(token, kOld), Answer::kStale);
  EXPECT_EQ(p.host(), kNew);
  // Asked again: the fresh answer is taken.
  EXPECT_EQ(p.answered(p.asked(), kNew), Answer::kTaken);
  EXPECT_EQ(p.host(), kNew);
}

TEST(RedisSentinelPrimary, AnAnswerFromBeforeANewSubscriptionIsStale) {
  RedisSentinelPrimary p;
  uint64_t token = p.asked();
  p.resubscribed();  // a +switch-master may have been missed meanwhile
  EXPECT_EQ(p.answered(token, kOld), Answer::kStale);
  EXPECT_TRUE(p.host().host.empty());
}

TEST(RedisSentinelPrimary, AFreshAnswerNamingAnotherPrimaryIsAMove) {
  RedisSentinelPrimary p;
  EXPECT_EQ(p.answered(p.asked(), kOld), Answer::kTaken);  // the first: no move
  EXPECT_EQ(p.answered(p.asked(), kOld), Answer::kTaken);
  EXPECT_EQ(p.answered(p.asked(), kNew), Answer::kMoved);  // a switch we missed
  EXPECT_EQ(p.host(), kNew);
}

TEST(RedisSentinelPrimary, ASwitchToTheKnownPrimaryIsNoMoveButStillEndsTheGeneration) {
  RedisSentinelPrimary p;
  EXPECT_TRUE(p.switched(kNew));
  uint64_t token = p.asked();
  EXPECT_FALSE(p.switched(kNew));
  EXPECT_EQ(p.answered(token, kOld), Answer::kStale);
  EXPECT_EQ(p.host(), kNew);
}

}  // namespace
}  // namespace streamshift
