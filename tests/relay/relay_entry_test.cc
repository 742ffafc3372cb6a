// Parsing and checking stream entries against contract v1, from real RESP
// bytes run through hiredis's own reader.
#include "relay/relay_entry.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

namespace streamshift {
namespace {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

Reply parse_resp(const std::string& bytes) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, bytes.data(), bytes.size());
  void* reply = nullptr;
  EXPECT_EQ(redisReaderGetReply(reader, &reply), REDIS_OK);
  redisReaderFree(reader);
  return Reply(static_cast<redisReply*>(reply));
}

std::string bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}

std::string fields_resp(const std::vector<std::string>& kv) {
  std::string out = "*" + std::to_string(kv.size()) + "\r\n";
  for (const std::string& s : kv) out += bulk(s);
  return out;
}

std::vector<std::string> valid_fields() {
  return {"v",
          "1",
          "event_id",
          "ev-1",
          "event_type",
          "chat_message",
          "room_id",
          "r-1",
          "ts_ms",
          "17",
          "method",
          "POST",
          "path",
          "/x?y=1",
          "content_type",
          "application/json",
          "body",
          std::string("{\"a\":\"\0\"}", 10)};
}

RelayEntry parse(const std::vector<std::string>& kv) {
  RelayEntry e;
  Reply r = parse_resp(fields_resp(kv));
  parse_entry_fields(e, r.get());
  return e;
}

TEST(RelayEntry, AValidEntryExposesItsFieldsAndKeepsTheBodyBytes) {
  RelayEntry e = parse(valid_fields());
  EXPECT_EQ(e.malformed, "");
  EXPECT_FALSE(e.deleted);
  EXPECT_EQ(e.event_id, "ev-1");
  EXPECT_EQ(e.room_id, "r-1");
  EXPECT_EQ(e.ts_ms, 17);
  EXPECT_EQ(e.method, "POST");
  EXPECT_EQ(e.path, "/x?y=1");
  EXPECT_EQ(e.body, std::string_view("{\"a\":\"\0\"}", 10));
  EXPECT_EQ(e.fields.size(), 9u);
}

TEST(RelayEntry, UnknownFieldsAreIgnoredAndOrderDoesNotMatter) {
  std::vector<std::string> kv = valid_fields();
  kv.insert(kv.begin(), {"later_field", "x"});
  std::swap(kv[2], kv[kv.size() - 2]);
  std::swap(kv[3], kv[kv.size() - 1]);
  RelayEntry e = parse(kv);
  EXPECT_EQ(e.malformed, "");
  EXPECT_EQ(e.fields.size(), 10u);
}

TEST(RelayEntry, EachMissingFieldIsNamed) {
  const std::vector<std::string> names = {"event_id", "event_type", "room_id",      "ts_ms",
                                          "method",   "path",       "content_type", "body"};
  for (const std::string& name : names) {
    std::vector<std::string> kv;
    std::vector<std::string> all = valid_fields();
    for (size_t i = 0; i < all.size(); i += 2) {
      if (all[i] == name) continue;
      kv.push_back(all[i]);
      kv.push_back(all[i + 1]);
    }
    EXPECT_EQ(parse(kv).malformed, "missing field " + name);
  }
}

TEST(RelayEntry, AnotherVersionIsRefusedBeforeItsFieldsAreJudged) {
  EXPECT_EQ(parse({"v", "2", "whatever", "x"}).malformed, "unknown entry version v=2");
  EXPECT_EQ(parse({"event_id", "x"}).malformed, "missing field v");
}

TEST(RelayEntry, ValuesThatWouldSplitTheReplayedRequestAreRefused) {
  auto with = [](const std::string& name, const std::string& value) {
    std::vector<std::string> kv = valid_fields();
    for (size_t i = 0; i < kv.size(); i += 2)
      if (kv[i] == name) kv[i + 1] = value;
    return parse(kv).malformed;
  };
  EXPECT_EQ(with("path", "/x HTTP/1.1\r\nX-Evil: 1"), "invalid path");
  EXPECT_EQ(with("path", "x"), "invalid path");
  EXPECT_EQ(with("path", "/a b"), "invalid path");
  EXPECT_EQ(with("method", "PO ST"), "invalid method");
  EXPECT_EQ(with("event_id", "a\r\nb"), "invalid event_id");
  EXPECT_EQ(with("event_id", ""), "invalid event_id");
  EXPECT_EQ(with("content_type", "a\nb"), "invalid content_type");
  EXPECT_EQ(with("ts_ms", "12x"), "invalid ts_ms");
  EXPECT_EQ(with("room_id", ""), "empty room_id");
}

TEST(RelayEntry, ANilFieldListMeansDeletedWhilePending) {
  Reply r = parse_resp(
      "*2\r\n"
      "*2\r\n" +
      bulk("1-0") + fields_resp(valid_fields()) + "*2\r\n" + bulk("2-0") + "*-1\r\n");
  std::vector<std::unique_ptr<RelayEntry>> out;
  parse_entries(r.get(), 3, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]->id, "1-0");
  EXPECT_FALSE(out[0]->deleted);
  EXPECT_EQ(out[0]->stream_index, 3u);
  EXPECT_EQ(out[1]->id, "2-0");
  EXPECT_TRUE(out[1]->deleted);
}

TEST(RelayEntry, AReadReplyIsSplitByStreamName) {
  std::string entry = "*1\r\n*2\r\n" + bulk("5-1") + fields_resp(valid_fields());
  Reply r = parse_resp("*3\r\n*2\r\n" + bulk("events:ticket") + entry + "*2\r\n" + bulk("unknown") +
                       entry + "*2\r\n" + bulk("events:chat") + entry);
  std::vector<std::unique_ptr<RelayEntry>> out;
  parse_read_reply(r.get(), {"events:chat", "events:ticket"}, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]->stream_index, 1u);
  EXPECT_EQ(out[1]->stream_index, 0u);
  EXPECT_NE(out[0]->room_key(), RelayEntry{}.room_key());
  Reply nil = parse_resp("*-1\r\n");
  parse_read_reply(nil.get(), {"events:chat"}, out);
  EXPECT_EQ(out.size(), 2u);
}

}  // namespace
}  // namespace streamshift
