// Percent-decoding of admin request targets: a path segment keeps '+', a
// query string turns it into a space; bad escapes are refused.
#include "core/query_string.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

TEST(QueryString, PathSegmentKeepsPlusAndDecodesBraces) {
  EXPECT_EQ(percent_decoded("events%3Achat%3A%7Bs1%7D", false), "events:chat:{s1}");
  EXPECT_EQ(percent_decoded("a+b", false), "a+b");
  EXPECT_EQ(percent_decoded("a+b", true), "a b");
  for (const char* bad : {"%", "%4", "%zz", "abc%2"}) {
    EXPECT_FALSE(percent_decoded(bad, false)) << bad;
  }
}

TEST(QueryString, PairsAreDecodedAndMalformedOnesRefused) {
  std::string why;
  auto v = parse_query_string("start=%281-0&count=5&&end=%2B", &why);
  ASSERT_TRUE(v) << why;
  EXPECT_EQ(v->size(), 3u);
  EXPECT_EQ(v->at("start"), "(1-0");
  EXPECT_EQ(v->at("end"), "+");
  EXPECT_EQ(v->at("count"), "5");
  ASSERT_TRUE(parse_query_string("", &why));
  EXPECT_TRUE(parse_query_string("", &why)->empty());
  for (const char* bad : {"reverse", "=1", "count=%G1"}) {
    EXPECT_FALSE(parse_query_string(bad, &why)) << bad;
    EXPECT_NE(why.find("NAME=VALUE"), std::string::npos);
  }
}

}  // namespace
}  // namespace streamshift
