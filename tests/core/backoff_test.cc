// Backoff delays: doubling, the cap, the jitter range; the random source.
#include "core/backoff.h"

#include <gtest/gtest.h>

#include <set>

namespace streamshift {
namespace {

TEST(Backoff, DoublesPerAttemptUpToTheCapWithinTheUpperHalf) {
  Backoff b{100, 1000};
  struct Case {
    uint32_t attempt;
    uint64_t full;
  } cases[] = {{0, 100}, {1, 100}, {2, 200}, {3, 400}, {4, 800}, {5, 1000}, {40, 1000}};
  for (const Case& c : cases) {
    EXPECT_EQ(b.delay_ms(c.attempt, 0), c.full / 2) << c.attempt;
    EXPECT_EQ(b.delay_ms(c.attempt, c.full - c.full / 2), c.full) << c.attempt;
    EXPECT_EQ(b.delay_ms(c.attempt, c.full - c.full / 2 + 1), c.full / 2) << c.attempt;
  }
  EXPECT_EQ((Backoff{0, 0}.delay_ms(3, 12345)), 0u);
  EXPECT_EQ((Backoff{1, 1}.delay_ms(1, 1)), 1u);
  EXPECT_EQ((Backoff{500, 500}.delay_ms(7, ~0ull)) >= 250u, true);
}

TEST(Backoff, RandomSourceIsNeverStuckAndSpreadsDelays) {
  JitterRandom zero(0);
  EXPECT_NE(zero.next(), 0u);
  JitterRandom r = JitterRandom::seeded(reinterpret_cast<uintptr_t>(&r));
  std::set<uint64_t> delays;
  Backoff b{1000, 1000};
  for (int i = 0; i < 200; ++i) {
    uint64_t d = b.delay_ms(1, r);
    ASSERT_GE(d, 500u);
    ASSERT_LE(d, 1000u);
    delays.insert(d);
  }
  EXPECT_GT(delays.size(), 100u);
}

}  // namespace
}  // namespace streamshift
