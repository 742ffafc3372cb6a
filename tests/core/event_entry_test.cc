// Contract v1 of the event entry: which bytes each field allows, the
// encoded field order, and decoding stored fields (ts_ms text included).
#include "core/event_entry.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace streamshift {
namespace {

EventEntry valid_entry() {
  EventEntry e;
  e.event_id = "ev-1";
  e.event_type = "chat_message";
  e.room_id = "r-1";
  e.ts_ms = 1700000000000;
  e.method = "POST";
  e.path = "/internal/broadcast/chat?source=app";
  e.content_type = "application/json";
  e.body = "{}";
  return e;
}

std::string upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

std::string field_at_fault(const EventEntry& e) {
  std::optional<EntryViolation> v = check_entry(e);
  return v ? std::string(v->field) : std::string();
}

TEST(EventEntry, AValidEntryPasses) {
  EXPECT_FALSE(check_entry(valid_entry()));
  EventEntry e = valid_entry();
  e.event_id = "caf\xc3\xa9 id";                        // UTF-8 and an inner space are fine
  e.content_type = "application/json;\tcharset=utf-8";  // tab is legal in a header value
  e.user_id = std::string_view("\0\r\n", 3);            // never leaves as a header
  e.has_user_id = true;
  e.room_id = "\t";
  e.event_type = "\x01";
  e.ts_ms = kMaxEntryTsMs;
  e.path = "/a?b=%FF";
  e.content_type = "";
  EXPECT_FALSE(check_entry(e));
  e.ts_ms = 0;
  EXPECT_FALSE(check_entry(e));
}

TEST(EventEntry, EventIdRefusesEveryControlCharacterAndOuterSpaces) {
  for (std::string bad :
       {std::string("a\tb"), std::string("a\x01"), std::string("a\x7f"), std::string("a\rb"),
        std::string("a\nb"), std::string("a\0b", 3), std::string("\x1f"), std::string(""),
        std::string(" a"), std::string("a ")}) {
    EventEntry e = valid_entry();
    e.event_id = bad;
    EXPECT_EQ(field_at_fault(e), "event_id") << testing::PrintToString(bad);
  }
  std::optional<EntryViolation> v = [] {
    EventEntry e = valid_entry();
    e.event_id = "a\tb";
    return check_entry(e);
  }();
  ASSERT_TRUE(v);
  EXPECT_NE(v->detail.find("control character"), std::string_view::npos);
}

TEST(EventEntry, PathMustStartWithASlashAndHoldNoControlCharacterOrSpace) {
  for (std::string bad :
       {std::string("/x?a=\tb"), std::string("/x?a=\fb"), std::string("/x y"),
        std::string("/x\x7f"), std::string("/x\r\nX-Evil: 1"), std::string("x"), std::string("")}) {
    EventEntry e = valid_entry();
    e.path = bad;
    EXPECT_EQ(field_at_fault(e), "path") << testing::PrintToString(bad);
  }
}

TEST(EventEntry, ContentTypeAllowsTabButNoOtherControlCharacter) {
  for (std::string bad : {std::string("a\nb"), std::string("a\rb"), std::string("a\x01"),
                          std::string("a\x7f"), std::string("a\0", 2)}) {
    EventEntry e = valid_entry();
    e.content_type = bad;
    EXPECT_EQ(field_at_fault(e), "content_type") << testing::PrintToString(bad);
  }
}

TEST(EventEntry, MethodIsAToken) {
  for (std::string bad : {"", "PO ST", "GET\r\n", "P(ST"}) {
    EventEntry e = valid_entry();
    e.method = bad;
    EXPECT_EQ(field_at_fault(e), "method") << bad;
  }
}

TEST(EventEntry, TsMsOutsideTheEpochToYear9999IsRefused) {
  for (int64_t bad : {int64_t{-1}, INT64_MIN, kMaxEntryTsMs + 1, INT64_MAX}) {
    EventEntry e = valid_entry();
    e.ts_ms = bad;
    EXPECT_EQ(field_at_fault(e), "ts_ms") << bad;
  }
}

TEST(EventEntry, EventTypeAndRoomIdMustNotBeEmpty) {
  EventEntry e = valid_entry();
  e.event_type = "";
  EXPECT_EQ(field_at_fault(e), "event_type");
  e = valid_entry();
  e.room_id = "";
  EXPECT_EQ(field_at_fault(e), "room_id");
}

std::vector<std::pair<std::string, std::string>> pairs_of(const EncodedEntry& encoded) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i + 1 < encoded.size(); i += 2)
    out.emplace_back(std::string(encoded[i]), std::string(encoded[i + 1]));
  return out;
}

TEST(EventEntry, EncodedInContractOrderWithUserIdOnlyWhenPresent) {
  EventEntry e = valid_entry();
  std::vector<std::string> names;
  for (const auto& [name, value] : pairs_of(EncodedEntry(e))) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"v", "event_id", "event_type", "room_id", "ts_ms",
                                             "method", "path", "content_type", "body"}));
  e.has_user_id = true;
  e.user_id = "u-9";
  auto pairs = pairs_of(EncodedEntry(e));
  ASSERT_EQ(pairs.size(), 10u);
  EXPECT_EQ(pairs[0], (std::pair<std::string, std::string>{"v", "1"}));
  EXPECT_EQ(pairs[4], (std::pair<std::string, std::string>{"user_id", "u-9"}));
  EXPECT_EQ(pairs[5], (std::pair<std::string, std::string>{"ts_ms", "1700000000000"}));
}

TEST(EventEntry, DecodingGivesBackWhatWasEncoded) {
  EventEntry e = valid_entry();
  e.has_user_id = true;
  e.user_id = "u-9";
  auto pairs = pairs_of(EncodedEntry(e));
  EventEntry d;
  EXPECT_EQ(decode_entry(pairs, &d), "");
  EXPECT_EQ(d.event_id, e.event_id);
  EXPECT_EQ(d.user_id, "u-9");
  EXPECT_TRUE(d.has_user_id);
  EXPECT_EQ(d.ts_ms, e.ts_ms);
  EXPECT_EQ(d.path, e.path);
}

TEST(EventEntry, DecodingRefusesTsMsTextOutOfRangeOrNotPlainDigits) {
  for (std::string bad : {"-9223372036854775808", "-1", "253402300800000", "9223372036854775807",
                          "99999999999999999999", "+1", " 1", "1 ", "1.5", "0x10", ""}) {
    EventEntry e = valid_entry();
    auto pairs = pairs_of(EncodedEntry(e));
    for (auto& [name, value] : pairs)
      if (name == "ts_ms") value = bad;
    EventEntry d;
    std::string why = decode_entry(pairs, &d);
    EXPECT_EQ(why.rfind("invalid ts_ms: ", 0), 0u) << "'" << bad << "' -> " << why;
  }
}

TEST(EventEntry, CapturedHeadersAreEncodedAfterTheBodyAndDecodedBack) {
  EventEntry e = valid_entry();
  e.headers[0] = {"h:traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"};
  e.headers[1] = {"h:x-request-id", "req-42"};
  e.header_count = 2;
  auto pairs = pairs_of(EncodedEntry(e));
  ASSERT_EQ(pairs.size(), 11u);
  EXPECT_EQ(pairs[8].first, "body");
  EXPECT_EQ(pairs[9],
            (std::pair<std::string, std::string>{
                "h:traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}));
  EXPECT_EQ(pairs[10], (std::pair<std::string, std::string>{"h:x-request-id", "req-42"}));
  EventEntry d;
  ASSERT_EQ(decode_entry(pairs, &d), "");
  ASSERT_EQ(d.header_count, 2u);
  EXPECT_EQ(d.headers[0].name(), "traceparent");
  EXPECT_EQ(d.headers[1].name(), "x-request-id");
  EXPECT_EQ(d.headers[1].value, "req-42");
}

TEST(EventEntry, DecodingSkipsUnreplayableHeaderFieldsAndIgnoresUnknownFields) {
  auto pairs = pairs_of(EncodedEntry(valid_entry()));
  pairs.insert(pairs.begin(), {"some_future_field", "anything\r\n"});
  pairs.push_back({"h:bad name", "v"});                  // not a token
  pairs.push_back({"h:host", "evil.example"});           // the relay sets it
  pairs.push_back({"h:Content-Length", "0"});            // the relay sets it, any case
  pairs.push_back({"h:x-split", "a\r\nX-Injected: 1"});  // a control character
  pairs.push_back({"h:", "empty name"});
  pairs.push_back({"h:x-ok", "fine\tvalue"});
  pairs.push_back({"h:x-ok", "the first counts"});
  for (int i = 0; i < 10; ++i) pairs.push_back({"h:x-n" + std::to_string(i), "n"});
  EventEntry d;
  ASSERT_EQ(decode_entry(pairs, &d), "");
  ASSERT_EQ(d.header_count, kMaxEntryHeaders);
  EXPECT_EQ(d.headers[0].name(), "x-ok");
  EXPECT_EQ(d.headers[0].value, "fine\tvalue");
  EXPECT_EQ(d.headers[1].name(), "x-n0");
  EXPECT_EQ(d.headers[kMaxEntryHeaders - 1].name(), "x-n6");
}

// An entry XADDed by hand, or a redriven dead letter, may carry any `h:`
// field: the relay replays none the sidecar would refuse to capture.
TEST(EventEntry, DecodingSkipsCredentialsAndHopByHopHeadersInAnyCase) {
  auto pairs = pairs_of(EncodedEntry(valid_entry()));
  for (std::string name :
       {"authorization", "Cookie", "proxy-authorization", "set-cookie", "upgrade", "expect",
        "connection", "te", "transfer-encoding", "host", "content-length"}) {
    for (std::string spelled : {name, upper(name)}) pairs.push_back({"h:" + spelled, "x"});
  }
  pairs.push_back({"h:Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"});
  EventEntry d;
  ASSERT_EQ(decode_entry(pairs, &d), "");
  ASSERT_EQ(d.header_count, 1u);
  EXPECT_EQ(d.headers[0].name(), "Traceparent");
}

TEST(EventEntry, AHeaderNameIsRefusedForOneReasonCredentialsFirst) {
  EXPECT_EQ(entry_header_refusal("traceparent"), HeaderRefusal::kNone);
  EXPECT_EQ(entry_header_refusal("AUTHORIZATION"), HeaderRefusal::kCredential);
  EXPECT_EQ(entry_header_refusal("Proxy-Authorization"), HeaderRefusal::kCredential);
  EXPECT_EQ(entry_header_refusal("Set-Cookie"), HeaderRefusal::kCredential);
  EXPECT_EQ(entry_header_refusal("Host"), HeaderRefusal::kRelaySet);
  EXPECT_EQ(entry_header_refusal("x-event-id"), HeaderRefusal::kRelaySet);
  EXPECT_EQ(entry_header_refusal("Expect"), HeaderRefusal::kHopByHop);
  EXPECT_EQ(entry_header_refusal("keep-alive"), HeaderRefusal::kHopByHop);
  EXPECT_EQ(entry_header_refusal("bad name"), HeaderRefusal::kNotToken);
  EXPECT_EQ(entry_header_refusal(""), HeaderRefusal::kNotToken);
  EXPECT_TRUE(replayable_header_name("X-Request-Id"));
  EXPECT_FALSE(replayable_header_name("cookie"));
}

}  // namespace
}  // namespace streamshift
