// parse_decimal: digits only, within bounds, never an overflow.
#include "core/decimal.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

TEST(Decimal, DigitsWithinTheBoundsAreTheirNumber) {
  EXPECT_EQ(parse_decimal("0", 0, 15), 0);
  EXPECT_EQ(parse_decimal("15", 0, 15), 15);
  EXPECT_EQ(parse_decimal("007", 1, 10), 7);
  EXPECT_EQ(parse_decimal("65535", 1, 65535), 65535);
  EXPECT_EQ(parse_decimal("999999999999999999", 0, INT64_MAX), 999999999999999999);
}

TEST(Decimal, AnythingElseIsRefused) {
  for (const char* bad : {"", "-0", "-1", "+1", " 1", "1 ", "1.0", "0x10", "1e3", "١", "12a"}) {
    EXPECT_FALSE(parse_decimal(bad, 0, INT64_MAX)) << bad;
  }
  EXPECT_FALSE(parse_decimal("16", 0, 15));
  EXPECT_FALSE(parse_decimal("0", 1, 500));
  EXPECT_FALSE(parse_decimal("65536", 1, 65535));
  // 19 digits (which could overflow) are refused rather than wrapped.
  EXPECT_FALSE(parse_decimal("9999999999999999999", 0, INT64_MAX));
  EXPECT_FALSE(parse_decimal("0000000000000000001", 0, INT64_MAX));
}

}  // namespace
}  // namespace streamshift
