#include "proxy/circuit_breaker.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

using Decision = CircuitBreaker::Decision;

TEST(CircuitBreaker, OpensAfterConsecutiveFailuresOnly) {
  CircuitBreaker cb(3, 1000);
  cb.record_failure(0);
  cb.record_failure(0);
  cb.record_success();  // resets the streak
  cb.record_failure(0);
  cb.record_failure(0);
  EXPECT_EQ(cb.decide(0), Decision::kAllow);
  cb.record_failure(10);
  EXPECT_EQ(cb.state(), CircuitBreaker::State::kOpen);
  EXPECT_EQ(cb.decide(500), Decision::kReject);
  EXPECT_EQ(cb.times_opened(), 1u);
}

TEST(CircuitBreaker, LetsExactlyOneProbeThroughAfterTheOpenTime) {
  CircuitBreaker cb(1, 1000);
  cb.record_failure(0);
  EXPECT_EQ(cb.decide(999), Decision::kReject);
  EXPECT_EQ(cb.decide(1000), Decision::kProbe);
  EXPECT_EQ(cb.decide(1001), Decision::kReject);  // the probe is in flight
  cb.record_success();
  EXPECT_EQ(cb.state(), CircuitBreaker::State::kClosed);
  EXPECT_EQ(cb.decide(1002), Decision::kAllow);
}

TEST(CircuitBreaker, AFailedProbeOpensItAgainForAFullPeriod) {
  CircuitBreaker cb(5, 1000);
  for (int i = 0; i < 5; ++i) cb.record_failure(0);
  EXPECT_EQ(cb.decide(1000), Decision::kProbe);
  cb.record_failure(1000);
  EXPECT_EQ(cb.state(), CircuitBreaker::State::kOpen);
  EXPECT_EQ(cb.decide(1999), Decision::kReject);
  EXPECT_EQ(cb.decide(2000), Decision::kProbe);
  EXPECT_EQ(cb.times_opened(), 2u);
}

}  // namespace
}  // namespace streamshift
