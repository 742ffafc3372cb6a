// Reading inspection requests without Redis: endpoints, readable streams
// (sharded or not, the DLQ), ids, counts and their cap, reverse, group and
// consumer, and each refusal's status and code.
#include "proxy/inspection_query.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

const ReadableStreams kPlain(StreamShards({"events:chat", "events:ticket"}, 1), "events:dlq");
const ReadableStreams kSharded(StreamShards({"events:chat"}, 2), "events:dlq");

InspectionParse parse(std::string_view endpoint, std::string_view query,
                      const ReadableStreams& streams = kPlain) {
  return parse_inspection(endpoint, query, streams, "signalr-consumers");
}

void expect_refused(const InspectionParse& p, int status, std::string_view code) {
  ASSERT_FALSE(p.query);
  EXPECT_EQ(p.refusal.status, status);
  EXPECT_EQ(p.refusal.code, code) << p.refusal.detail;
  EXPECT_FALSE(p.refusal.detail.empty());
}

TEST(InspectionQuery, EndpointsAreRecognised) {
  EXPECT_TRUE(is_inspection_endpoint("dlq"));
  EXPECT_TRUE(is_inspection_endpoint("streams/events%3Achat/entries"));
  EXPECT_FALSE(is_inspection_endpoint("streams"));  // the lag API's list
  EXPECT_FALSE(is_inspection_endpoint("consumer-lag"));
}

TEST(InspectionQuery, EntriesDefaultsAndEveryParameter) {
  InspectionParse p = parse("streams/events%3Achat/entries", "");
  ASSERT_TRUE(p.query) << p.refusal.detail;
  EXPECT_EQ(p.query->endpoint, InspectionEndpoint::kEntries);
  EXPECT_EQ(p.query->stream, "events:chat");
  EXPECT_EQ(p.query->start, "-");
  EXPECT_EQ(p.query->end, "+");
  EXPECT_EQ(p.query->count, kDefaultInspectionCount);
  EXPECT_FALSE(p.query->reverse);

  p = parse("streams/events:ticket/entries", "start=%281700000000000-3&end=1700000000999&count=" +
                                                 std::to_string(kMaxInspectionCount) +
                                                 "&reverse=1");
  ASSERT_TRUE(p.query) << p.refusal.detail;
  EXPECT_EQ(p.query->stream, "events:ticket");
  EXPECT_EQ(p.query->start, "(1700000000000-3");
  EXPECT_EQ(p.query->end, "1700000000999");
  EXPECT_EQ(p.query->count, kMaxInspectionCount);
  EXPECT_TRUE(p.query->reverse);
  EXPECT_FALSE(parse("streams/events:chat/entries", "reverse=false").query->reverse);
}

TEST(InspectionQuery, PendingTakesTheConfiguredGroupUnlessGiven) {
  InspectionParse p = parse("streams/events:chat/pending", "consumer=relay-1&count=3");
  ASSERT_TRUE(p.query) << p.refusal.detail;
  EXPECT_EQ(p.query->endpoint, InspectionEndpoint::kPending);
  EXPECT_EQ(p.query->group, "signalr-consumers");
  EXPECT_EQ(p.query->consumer, "relay-1");
  EXPECT_EQ(p.query->count, 3);
  EXPECT_EQ(parse("streams/events:chat/pending", "group=other").query->group, "other");
  expect_refused(parse("streams/events:chat/pending", "group="), 400, "invalid_query");
  expect_refused(parse("streams/events:chat/pending", "reverse=1"), 400, "invalid_query");
}

TEST(InspectionQuery, DlqIsReadNewestFirst) {
  InspectionParse p = parse("dlq", "count=7");
  ASSERT_TRUE(p.query) << p.refusal.detail;
  EXPECT_EQ(p.query->endpoint, InspectionEndpoint::kDlq);
  EXPECT_EQ(p.query->stream, "events:dlq");
  EXPECT_TRUE(p.query->reverse);
  EXPECT_EQ(p.query->count, 7);
  expect_refused(parse("dlq", "group=g"), 400, "invalid_query");
  // The DLQ is readable as a stream too.
  EXPECT_TRUE(parse("streams/events%3Adlq/entries", "").query);
}

TEST(InspectionQuery, OnlyConfiguredStreamsAndTheirShardsAreReadable) {
  expect_refused(parse("streams/secrets/entries", ""), 404, "unknown_stream");
  expect_refused(parse("streams/events%3Achat%3A%7Bs0%7D/entries", ""), 404, "unknown_stream");
  EXPECT_TRUE(parse("streams/events%3Achat%3A%7Bs1%7D/entries", "", kSharded).query);
  InspectionParse logical = parse("streams/events%3Achat/entries", "", kSharded);
  expect_refused(logical, 400, "sharded_stream");
  EXPECT_NE(logical.refusal.detail.find("events:chat:{s0}, events:chat:{s1}"), std::string::npos)
      << logical.refusal.detail;
  expect_refused(parse("streams/%ZZ/entries", ""), 400, "invalid_stream");
  expect_refused(parse("streams//entries", ""), 400, "invalid_stream");
  expect_refused(parse("streams/events:chat/other", ""), 404, "not_found");
  expect_refused(parse("streams/events:chat", ""), 404, "not_found");
  expect_refused(parse("streams/a/b/entries", ""), 404, "not_found");
}

TEST(InspectionQuery, IdsCountsAndReverseAreChecked) {
  for (const char* good : {"-", "+", "0", "1700000000000", "1700000000000-0", "(5-1", "(5"}) {
    EXPECT_TRUE(valid_range_id(good)) << good;
  }
  for (const char* bad :
       {"", "(", "(-", "(+", "x", "5-", "-5", "5-x", "1-2-3", "5 ", "99999999999999999999"}) {
    EXPECT_FALSE(valid_range_id(bad)) << bad;
  }
  expect_refused(parse("streams/events:chat/entries", "start=abc"), 400, "invalid_id");
  expect_refused(parse("streams/events:chat/entries", "end=1-x"), 400, "invalid_id");
  for (std::string bad : std::vector<std::string>{"0", "-1", "x", "", "5x",
                                                  std::to_string(kMaxInspectionCount + 1)}) {
    expect_refused(parse("streams/events:chat/entries", "count=" + bad), 400, "invalid_count");
  }
  expect_refused(parse("streams/events:chat/entries", "reverse=yes"), 400, "invalid_reverse");
  expect_refused(parse("streams/events:chat/entries", "limit=5"), 400, "invalid_query");
  expect_refused(parse("streams/events:chat/entries", "reverse"), 400, "invalid_query");
}

}  // namespace
}  // namespace streamshift
