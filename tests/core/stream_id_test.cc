// Stream ids: parsing, order, printing, the id just before.
#include "core/stream_id.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

TEST(StreamId, ParsesPrintsAndOrders) {
  auto id = StreamId::parse("1700000000000-5");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->ms, 1700000000000u);
  EXPECT_EQ(id->seq, 5u);
  EXPECT_EQ(id->to_string(), "1700000000000-5");
  EXPECT_EQ(StreamId::parse("42")->to_string(), "42-0");
  EXPECT_EQ(StreamId::parse("18446744073709551615-18446744073709551615")->seq,
            18446744073709551615u);
  for (const char* bad :
       {"", "-", "1-", "-1", "1-2-3", "a-1", "1-b", " 1-1", "1-1 ", "18446744073709551616-0"}) {
    EXPECT_FALSE(StreamId::parse(bad)) << bad;
  }
  EXPECT_LT(*StreamId::parse("5-1"), *StreamId::parse("5-2"));
  EXPECT_LT(*StreamId::parse("5-99"), *StreamId::parse("6-0"));
  EXPECT_EQ(*StreamId::parse("7-0"), *StreamId::parse("7"));
}

TEST(StreamId, TheIdJustBefore) {
  EXPECT_EQ(StreamId::parse("5-3")->before().to_string(), "5-2");
  EXPECT_EQ(StreamId::parse("5-0")->before().to_string(), "4-18446744073709551615");
  EXPECT_EQ(StreamId::parse("0-0")->before().to_string(), "0-0");
  EXPECT_LT(StreamId::parse("5-0")->before(), *StreamId::parse("5-0"));
}

}  // namespace
}  // namespace streamshift
