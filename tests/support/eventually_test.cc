// eventually(): polls until the condition holds or the time is up, and says
// which it was and how long it took.
#include "tests/support/eventually.h"

#include <gtest/gtest.h>

#include <chrono>

namespace streamshift::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

TEST(Eventually, HoldsAsSoonAsTheConditionDoes) {
  int checks = 0;
  auto started = Clock::now();
  ::testing::AssertionResult r = eventually([&] { return ++checks == 3; }, milliseconds(5000));
  EXPECT_TRUE(r);
  EXPECT_EQ(checks, 3);
  EXPECT_LT(Clock::now() - started, milliseconds(2000));
  EXPECT_NE(std::string(r.message()).find("the condition: true after "), std::string::npos)
      << r.message();
}

TEST(Eventually, GivesUpAtTheDeadlineNamingWhatItWaitedFor) {
  int checks = 0;
  auto started = Clock::now();
  ::testing::AssertionResult r = eventually(
      [&] {
        ++checks;
        return false;
      },
      milliseconds(100), "XLEN events:chat >= 10");
  EXPECT_FALSE(r);
  EXPECT_GE(Clock::now() - started, milliseconds(100));
  EXPECT_GT(checks, 1);
  EXPECT_EQ(std::string(r.message()), "XLEN events:chat >= 10: still false after 100 ms (" +
                                          std::to_string(checks) + " checks)");
}

TEST(Eventually, ChecksOnceEvenWithNoTimeLeft) {
  int checks = 0;
  EXPECT_TRUE(eventually([&] { return ++checks == 1; }, milliseconds(0)));
  EXPECT_FALSE(eventually([] { return false; }, milliseconds(0)));
  EXPECT_EQ(checks, 1);
}

}  // namespace
}  // namespace streamshift::testing
