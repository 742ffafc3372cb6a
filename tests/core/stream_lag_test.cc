// Reading XINFO STREAM / GROUPS / CONSUMERS replies (Redis 7.0, RESP2) for
// consumer lag, as both programs use it.
#include "core/stream_lag.h"

#include <gtest/gtest.h>

#include "tests/core/resp.h"

namespace streamshift {
namespace {

std::string group_row(const std::string& name, const std::string& lag,
                      const std::string& last_delivered = "5-0") {
  return resp::array({resp::bulk("name"), resp::bulk(name), resp::bulk("consumers"),
                      resp::integer(1), resp::bulk("pending"), resp::integer(0),
                      resp::bulk("last-delivered-id"), resp::bulk(last_delivered),
                      resp::bulk("entries-read"), resp::integer(5), resp::bulk("lag"), lag});
}

TEST(StreamLag, AFieldIsFoundByItsKeyInAFlatMap) {
  resp::Reply r = resp::parse(resp::array(
      {resp::bulk("length"), resp::integer(7), resp::status("groups"), resp::bulk("x")}));
  ASSERT_NE(xinfo_field(r.get(), "length"), nullptr);
  EXPECT_EQ(xinfo_field(r.get(), "length")->integer, 7);
  EXPECT_EQ(std::string(xinfo_field(r.get(), "groups")->str), "x");  // status keys count too
  EXPECT_EQ(xinfo_field(r.get(), "x"), nullptr);                     // values are not keys
  EXPECT_EQ(xinfo_field(r.get(), "missing"), nullptr);
  resp::Reply scalar = resp::parse(resp::integer(1));
  EXPECT_EQ(xinfo_field(scalar.get(), "length"), nullptr);
  EXPECT_EQ(xinfo_field(nullptr, "length"), nullptr);
}

TEST(StreamLag, XinfoStreamGivesLengthGroupsAndTheNewestDeletedId) {
  resp::Reply r = resp::parse(
      resp::array({resp::bulk("length"), resp::integer(12), resp::bulk("radix-tree-keys"),
                   resp::integer(1), resp::bulk("max-deleted-entry-id"), resp::bulk("9-3"),
                   resp::bulk("groups"), resp::integer(2)}));
  XinfoStream s = parse_xinfo_stream(r.get());
  EXPECT_EQ(s.length, 12);
  EXPECT_EQ(s.groups, 2);
  EXPECT_EQ(s.max_deleted_id, "9-3");
  XinfoStream empty = parse_xinfo_stream(resp::parse(resp::array({})).get());
  EXPECT_EQ(empty.length, 0);
  EXPECT_EQ(empty.max_deleted_id, "");
}

TEST(StreamLag, XinfoGroupsGivesTheNamedGroupsLagOrNilAsUnknown) {
  resp::Reply r = resp::parse(resp::array(
      {group_row("others", resp::integer(99), "1-0"), group_row("ours", resp::integer(4), "7-1")}));
  XinfoGroup ours = parse_xinfo_group(r.get(), "ours");
  EXPECT_TRUE(ours.found);
  EXPECT_EQ(ours.lag, 4);
  EXPECT_EQ(ours.last_delivered_id, "7-1");
  EXPECT_FALSE(parse_xinfo_group(r.get(), "missing").found);

  resp::Reply nil = resp::parse(resp::array({group_row("ours", resp::nil())}));
  XinfoGroup unknown = parse_xinfo_group(nil.get(), "ours");
  EXPECT_TRUE(unknown.found);
  EXPECT_FALSE(unknown.lag.has_value());  // Redis cannot tell: never a made-up number

  resp::Reply not_array = resp::parse(resp::error("ERR no such key"));
  EXPECT_FALSE(parse_xinfo_group(not_array.get(), "ours").found);
  EXPECT_FALSE(parse_xinfo_group(nullptr, "ours").found);
}

TEST(StreamLag, XinfoConsumersGivesTheirNames) {
  resp::Reply r =
      resp::parse(resp::array({resp::array({resp::bulk("name"), resp::bulk("relay-a"),
                                            resp::bulk("pending"), resp::integer(0)}),
                               resp::array({resp::bulk("name"), resp::bulk("relay-b")})}));
  EXPECT_EQ(parse_xinfo_consumers(r.get()), (std::vector<std::string>{"relay-a", "relay-b"}));
  EXPECT_TRUE(parse_xinfo_consumers(resp::parse(resp::nil_array()).get()).empty());
}

TEST(StreamLag, TrimmingBeforeTheGroupReadIsLossAndOnlyThen) {
  EXPECT_TRUE(trimmed_unread("5-0", "6-0"));
  EXPECT_TRUE(trimmed_unread("", "1-0"));  // never read anything
  EXPECT_FALSE(trimmed_unread("6-0", "6-0"));
  EXPECT_FALSE(trimmed_unread("10-0", "9-5"));  // ids compare as numbers, not text
  EXPECT_FALSE(trimmed_unread("", "0-0"));      // nothing deleted
  EXPECT_FALSE(trimmed_unread("", ""));
}

}  // namespace
}  // namespace streamshift
