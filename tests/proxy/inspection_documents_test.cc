// The inspection API's answers from Redis replies built by hiredis's own
// reader: entry shapes (JSON body embedded, text escaped, large body
// truncated), "next", dead letters, the XPENDING summary and entries, and
// replies of the wrong shape.
#include "proxy/inspection_documents.h"

#include <gtest/gtest.h>

#include "tests/core/resp.h"

namespace streamshift {
namespace {

std::string entry(const std::string& id, const std::vector<std::string>& fields) {
  return resp::array({resp::bulk(id), resp::bulks(fields)});
}

InspectionQuery query(InspectionEndpoint endpoint, int count, bool reverse = false) {
  InspectionQuery q;
  q.endpoint = endpoint;
  q.stream = endpoint == InspectionEndpoint::kDlq ? "events:dlq" : "events:chat";
  q.count = count;
  q.reverse = reverse;
  q.group = "signalr-consumers";
  return q;
}

std::string entries(const std::string& reply, int count, bool reverse = false) {
  resp::Reply r = resp::parse(reply);
  auto parsed = read_range_reply(r.get());
  EXPECT_TRUE(parsed);
  if (!parsed) return "";
  return entries_document(query(InspectionEndpoint::kEntries, count, reverse), *parsed);
}

TEST(InspectionDocuments, JsonBodyIsEmbeddedAndTextEscaped) {
  std::string doc = entries(
      resp::array({entry("1-0", {"v", "1", "event_id", "e-1", "body", "{\"a\": [1, null]}"}),
                   entry("2-0", {"event_id", "e-2", "body", "not \"json\"\n"})}),
      20);
  EXPECT_EQ(doc,
            "{\"stream\":\"events:chat\",\"reverse\":false,\"entries\":["
            "{\"id\":\"1-0\",\"fields\":{\"v\":\"1\",\"event_id\":\"e-1\"},"
            "\"body\":{\"a\": [1, null]},\"body_format\":\"json\",\"body_bytes\":16,"
            "\"body_truncated\":false},"
            "{\"id\":\"2-0\",\"fields\":{\"event_id\":\"e-2\"},"
            "\"body\":\"not \\\"json\\\"\\n\",\"body_format\":\"text\",\"body_bytes\":11,"
            "\"body_truncated\":false}],\"next\":null}");
}

TEST(InspectionDocuments, AlmostJsonIsShownAsText) {
  for (std::string body : {"{\"a\":1} {\"b\":2}", "{\"a\":", "[1,]", "\xff\"x\""}) {
    std::string doc = entries(resp::array({entry("1-0", {"body", body})}), 20);
    EXPECT_NE(doc.find("\"body_format\":\"text\""), std::string::npos) << body << " " << doc;
  }
}

TEST(InspectionDocuments, EntryWithoutBodyHasNoBodyMembers) {
  std::string doc = entries(resp::array({entry("1-0", {"n", "0"})}), 20);
  EXPECT_EQ(doc,
            "{\"stream\":\"events:chat\",\"reverse\":false,\"entries\":["
            "{\"id\":\"1-0\",\"fields\":{\"n\":\"0\"}}],\"next\":null}");
}

TEST(InspectionDocuments, LargeBodyIsTruncatedAsTextWithItsSize) {
  std::string big = "{\"text\":\"" + std::string(10000, 'x') + "\"}";
  std::string doc = entries(resp::array({entry("1-0", {"body", big})}), 20);
  std::string shown = big.substr(0, kInspectionBodyBytes);
  EXPECT_NE(doc.find("\"body\":\"{\\\"text\\\":\\\"" + std::string(kInspectionBodyBytes - 9, 'x') +
                     "\",\"body_format\":\"text\",\"body_bytes\":" + std::to_string(big.size()) +
                     ",\"body_truncated\":true"),
            std::string::npos)
      << doc.substr(0, 200);
  EXPECT_LT(doc.size(), kInspectionBodyBytes + 300);
  // Exactly at the limit: whole, and still JSON.
  std::string limit = "\"" + std::string(kInspectionBodyBytes - 2, 'y') + "\"";
  doc = entries(resp::array({entry("1-0", {"body", limit})}), 20);
  EXPECT_NE(doc.find("\"body_format\":\"json\",\"body_bytes\":4096,\"body_truncated\":false"),
            std::string::npos);
}

// The range script's reply: values already cut by Redis, the body's whole
// size as a third element; the answer is the one a whole body would give.
TEST(InspectionDocuments, ABodyCutByRedisKeepsItsWholeSize) {
  std::string big = "{\"text\":\"" + std::string(10000, 'x') + "\"}";
  std::string whole = entries(resp::array({entry("1-0", {"n", "1", "body", big})}), 20);
  std::string cut = entries(
      resp::array({resp::array(
          {resp::bulk("1-0"), resp::bulks({"n", "1", "body", big.substr(0, kInspectionBodyBytes)}),
           resp::integer(static_cast<int64_t>(big.size()))})}),
      20);
  EXPECT_EQ(cut, whole);
  EXPECT_NE(cut.find("\"body_bytes\":" + std::to_string(big.size()) + ",\"body_truncated\":true"),
            std::string::npos);
  // Small: the same size both ways, still JSON.
  std::string small = entries(
      resp::array(
          {resp::array({resp::bulk("1-0"), resp::bulks({"body", "[1]"}), resp::integer(3)})}),
      20);
  EXPECT_NE(small.find("\"body\":[1],\"body_format\":\"json\",\"body_bytes\":3,"
                       "\"body_truncated\":false"),
            std::string::npos)
      << small;
  // Without a body the size is not shown.
  std::string none = entries(
      resp::array({resp::array({resp::bulk("1-0"), resp::bulks({"n", "0"}), resp::integer(0)})}),
      20);
  EXPECT_EQ(none,
            "{\"stream\":\"events:chat\",\"reverse\":false,\"entries\":["
            "{\"id\":\"1-0\",\"fields\":{\"n\":\"0\"}}],\"next\":null}");
}

TEST(InspectionDocuments, TheEntryPastCountIsNamedAsNext) {
  std::string reply =
      resp::array({entry("3-0", {"n", "3"}), entry("2-0", {"n", "2"}), entry("1-0", {"n", "1"})});
  EXPECT_EQ(entries(reply, 2, true),
            "{\"stream\":\"events:chat\",\"reverse\":true,\"entries\":["
            "{\"id\":\"3-0\",\"fields\":{\"n\":\"3\"}},{\"id\":\"2-0\",\"fields\":{\"n\":\"2\"}}],"
            "\"next\":\"1-0\"}");
  EXPECT_NE(entries(reply, 3).find("\"next\":null"), std::string::npos);
}

// The range script stopped the page at its byte budget: the id-only entry
// is "next", whatever the count, and never shown.
TEST(InspectionDocuments, AnIdOnlyLastEntryIsNextOfAShorterPage) {
  std::string reply = resp::array(
      {entry("1-0", {"n", "1"}), entry("2-0", {"n", "2"}), resp::array({resp::bulk("3-0")})});
  EXPECT_EQ(entries(reply, 20),
            "{\"stream\":\"events:chat\",\"reverse\":false,\"entries\":["
            "{\"id\":\"1-0\",\"fields\":{\"n\":\"1\"}},{\"id\":\"2-0\",\"fields\":{\"n\":\"2\"}}],"
            "\"next\":\"3-0\"}");
  // A count smaller than the page: the count + 1th is next, as always.
  EXPECT_NE(entries(reply, 1).find("\"next\":\"2-0\""), std::string::npos);
  resp::Reply r = resp::parse(resp::array({resp::array({resp::bulk("9-0")})}));
  auto parsed = read_range_reply(r.get());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(dlq_document(query(InspectionEndpoint::kDlq, 20, true), *parsed),
            "{\"stream\":\"events:dlq\",\"dead_letters\":[],\"next\":\"9-0\"}");
}

TEST(InspectionDocuments, DeadLetterHasItsOwnMembersAndTheOriginalFields) {
  resp::Reply r = resp::parse(resp::array({entry(
      "9-0", {"v", "1", "event_id", "e-1", "body", "{\"room_id\":\"r\"}", "dlq_error",
              "target answered 400", "dlq_deliveries", "5", "dlq_source_stream", "events:chat",
              "dlq_source_id", "1-0", "dlq_consumer", "relay-0", "dlq_ts_ms", "1700000000000"})}));
  auto parsed = read_range_reply(r.get());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(dlq_document(query(InspectionEndpoint::kDlq, 20, true), *parsed),
            "{\"stream\":\"events:dlq\",\"dead_letters\":[{\"id\":\"9-0\","
            "\"error\":\"target answered 400\",\"source_stream\":\"events:chat\","
            "\"source_id\":\"1-0\",\"deliveries\":5,\"consumer\":\"relay-0\","
            "\"ts_ms\":1700000000000,\"fields\":{\"v\":\"1\",\"event_id\":\"e-1\"},"
            "\"body\":{\"room_id\":\"r\"},\"body_format\":\"json\",\"body_bytes\":15,"
            "\"body_truncated\":false}],\"next\":null}");
  // Missing dlq_* fields are null; a number that is not one stays text.
  r = resp::parse(resp::array({entry("9-1", {"dlq_deliveries", "many"})}));
  parsed = read_range_reply(r.get());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(dlq_document(query(InspectionEndpoint::kDlq, 20, true), *parsed),
            "{\"stream\":\"events:dlq\",\"dead_letters\":[{\"id\":\"9-1\",\"error\":null,"
            "\"source_stream\":null,\"source_id\":null,\"deliveries\":\"many\",\"consumer\":null,"
            "\"ts_ms\":null,\"fields\":{}}],\"next\":null}");
}

TEST(InspectionDocuments, PendingSummaryAndEntries) {
  resp::Reply summary_reply = resp::parse(
      resp::array({resp::integer(3), resp::bulk("1-0"), resp::bulk("3-0"),
                   resp::array({resp::bulks({"c-1", "2"}), resp::bulks({"c-2", "1"})})}));
  resp::Reply entries_reply = resp::parse(resp::array(
      {resp::array({resp::bulk("1-0"), resp::bulk("c-1"), resp::integer(1500), resp::integer(2)}),
       resp::array({resp::bulk("2-0"), resp::bulk("c-1"), resp::integer(20), resp::integer(1)})}));
  auto summary = read_pending_summary(summary_reply.get());
  auto pending = read_pending_entries(entries_reply.get());
  ASSERT_TRUE(summary);
  ASSERT_TRUE(pending);
  InspectionQuery q = query(InspectionEndpoint::kPending, 1);
  q.consumer = "c-1";
  EXPECT_EQ(pending_document(q, *summary, *pending),
            "{\"stream\":\"events:chat\",\"group\":\"signalr-consumers\",\"consumer\":\"c-1\","
            "\"summary\":{\"count\":3,\"smallest_id\":\"1-0\",\"largest_id\":\"3-0\","
            "\"consumers\":{\"c-1\":2,\"c-2\":1}},\"entries\":[{\"id\":\"1-0\",\"consumer\":"
            "\"c-1\",\"idle_ms\":1500,\"deliveries\":2}],\"next\":\"2-0\"}");
  // Nothing pending: Redis answers nil ids and a nil consumer list.
  resp::Reply empty =
      resp::parse(resp::array({resp::integer(0), resp::nil(), resp::nil(), resp::nil_array()}));
  summary = read_pending_summary(empty.get());
  ASSERT_TRUE(summary);
  EXPECT_EQ(pending_document(query(InspectionEndpoint::kPending, 20), *summary, {}),
            "{\"stream\":\"events:chat\",\"group\":\"signalr-consumers\",\"consumer\":null,"
            "\"summary\":{\"count\":0,\"smallest_id\":null,\"largest_id\":null,"
            "\"consumers\":{}},\"entries\":[],\"next\":null}");
}

TEST(InspectionDocuments, RepliesOfTheWrongShapeAreRefused) {
  for (const std::string& bad :
       {resp::integer(1), resp::array({resp::bulk("1-0")}),
        resp::array({resp::array({resp::bulk("1-0"), resp::bulks({"odd"})})}),
        resp::array({resp::array({resp::integer(1), resp::bulks({})})}),
        resp::array({resp::array({resp::bulk("1-0"), resp::bulks({}), resp::integer(-1)})}),
        resp::array({resp::array({resp::bulk("1-0"), resp::bulks({}), resp::bulk("many")})}),
        resp::array({resp::array(
            {resp::bulk("1-0"), resp::bulks({}), resp::integer(1), resp::integer(1)})}),
        // An id alone only ends a page.
        resp::array({resp::array({resp::bulk("1-0")}), entry("2-0", {})}),
        resp::array({resp::array({resp::integer(1)})})}) {
    resp::Reply r = resp::parse(bad);
    EXPECT_FALSE(read_range_reply(r.get())) << bad;
  }
  for (const std::string& bad :
       {resp::array({resp::integer(1)}),
        resp::array({resp::integer(1), resp::nil(), resp::nil(), resp::bulk("x")}),
        resp::array({resp::bulk("x"), resp::nil(), resp::nil(), resp::nil_array()})}) {
    resp::Reply r = resp::parse(bad);
    EXPECT_FALSE(read_pending_summary(r.get())) << bad;
  }
  resp::Reply r = resp::parse(resp::array({resp::bulks({"1-0", "c"})}));
  EXPECT_FALSE(read_pending_entries(r.get()));
}

}  // namespace
}  // namespace streamshift
