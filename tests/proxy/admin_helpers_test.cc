#include <gtest/gtest.h>

#include "proxy/events_api.h"
#include "proxy/lag_monitor.h"

namespace streamshift {
namespace {

TEST(ConstantTimeEquals, ComparesWholeStrings) {
  EXPECT_TRUE(constant_time_equals("secret-token", "secret-token"));
  EXPECT_FALSE(constant_time_equals("secret-token", "secret-tokeN"));
  EXPECT_FALSE(constant_time_equals("secret", "secret-token"));
  EXPECT_FALSE(constant_time_equals("", "x"));
  EXPECT_TRUE(constant_time_equals("", ""));
}

TEST(StreamIdLess, OrdersByMillisecondsThenSequence) {
  EXPECT_TRUE(stream_id_less("0-0", "1-0"));
  EXPECT_TRUE(stream_id_less("1700000000000-5", "1700000000001-0"));
  EXPECT_TRUE(stream_id_less("5-1", "5-2"));
  EXPECT_FALSE(stream_id_less("5-2", "5-2"));
  EXPECT_FALSE(stream_id_less("10-0", "9-99"));  // numeric, not text, order
}

}  // namespace
}  // namespace streamshift
