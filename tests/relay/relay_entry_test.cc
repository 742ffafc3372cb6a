// Parsing and checking stream entries against contract v1, from real RESP
// bytes run through hiredis's own reader.
#include "relay/relay_entry.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/event_entry.h"
#include "tests/core/resp.h"

namespace streamshift {
namespace {

using resp::bulk;
using resp::Reply;

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
  Reply r = resp::parse(resp::bulks(kv));
  parse_entry_fields(e, r.get());
  return e;
}

TEST(RelayEntry, AValidEntryExposesItsFieldsAndKeepsTheBodyBytes) {
  RelayEntry e = parse(valid_fields());
  EXPECT_EQ(e.malformed, "");
  EXPECT_FALSE(e.deleted);
  EXPECT_EQ(e.event.event_id, "ev-1");
  EXPECT_EQ(e.event.room_id, "r-1");
  EXPECT_EQ(e.event.ts_ms, 17);
  EXPECT_EQ(e.event.method, "POST");
  EXPECT_EQ(e.event.path, "/x?y=1");
  EXPECT_EQ(e.event.body, std::string_view("{\"a\":\"\0\"}", 10));
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

std::vector<std::string> with(const std::string& name, const std::string& value) {
  std::vector<std::string> kv = valid_fields();
  for (size_t i = 0; i < kv.size(); i += 2)
    if (kv[i] == name) kv[i + 1] = value;
  return kv;
}

// "invalid path: <the contract's rule>" -> "invalid path".
std::string refusal(const std::vector<std::string>& kv) {
  std::string why = parse(kv).malformed;
  return why.substr(0, why.find(':'));
}

TEST(RelayEntry, ValuesThatWouldSplitTheReplayedRequestAreRefused) {
  EXPECT_EQ(refusal(with("path", "/x HTTP/1.1\r\nX-Evil: 1")), "invalid path");
  EXPECT_EQ(refusal(with("path", "x")), "invalid path");
  EXPECT_EQ(refusal(with("path", "/a b")), "invalid path");
  EXPECT_EQ(refusal(with("path", "/a?b=\tc")), "invalid path");
  EXPECT_EQ(refusal(with("path", "/a?b=\fc")), "invalid path");
  EXPECT_EQ(refusal(with("method", "PO ST")), "invalid method");
  EXPECT_EQ(refusal(with("event_id", "a\r\nb")), "invalid event_id");
  EXPECT_EQ(refusal(with("event_id", "a\tb")), "invalid event_id");
  EXPECT_EQ(refusal(with("event_id", "a\x01")), "invalid event_id");
  EXPECT_EQ(refusal(with("event_id", "a\x7f")), "invalid event_id");
  EXPECT_EQ(refusal(with("event_id", "")), "invalid event_id");
  EXPECT_EQ(refusal(with("content_type", "a\nb")), "invalid content_type");
  EXPECT_EQ(refusal(with("ts_ms", "12x")), "invalid ts_ms");
  EXPECT_EQ(refusal(with("room_id", "")), "invalid room_id");
  EXPECT_EQ(refusal(with("event_type", "")), "invalid event_type");
  // The reason says which bytes the field allows.
  EXPECT_EQ(parse(with("path", "x")).malformed,
            "invalid path: path must start with / and hold only 0x21-0x7E but # (no control "
            "character, space, fragment or byte over 0x7E: the ingress percent-encodes those), "
            "and no . or .. segment");
  // What the ingress never forwards as it is, the relay never replays.
  EXPECT_EQ(refusal(with("path", "/a#b")), "invalid path");
  EXPECT_EQ(refusal(with("path", "/caf\xe9")), "invalid path");
  EXPECT_EQ(refusal(with("path", "/a/../b")), "invalid path");
  EXPECT_EQ(refusal(with("path", "/a/%2e/b")), "invalid path");
  EXPECT_EQ(refusal(with("path", "/a/.b/c?x=..")), "");
}

// The sidecar stamps ts_ms; anything outside [0, year 9999] would overflow
// the relay's age arithmetic (a sanitizer abort, then a crash loop while the
// entry stays pending): such an entry is malformed.
TEST(RelayEntry, ATsMsOutOfRangeIsMalformed) {
  for (const char* bad : {"-9223372036854775808", "-1", "9223372036854775807", "253402300800000"}) {
    RelayEntry e = parse(with("ts_ms", bad));
    EXPECT_EQ(e.malformed.rfind("invalid ts_ms", 0), 0u) << bad << ": " << e.malformed;
  }
  EXPECT_EQ(parse(with("ts_ms", "253402300799999")).malformed, "");
}

// A tab inside a header value is legal HTTP: what the sidecar stores for
// `Content-Type: application/json;<TAB>charset=utf-8` is delivered.
TEST(RelayEntry, ATabInsideTheContentTypeIsDelivered) {
  RelayEntry e = parse(with("content_type", "application/json;\tcharset=utf-8"));
  EXPECT_EQ(e.malformed, "");
  EXPECT_EQ(e.event.content_type, "application/json;\tcharset=utf-8");
}

// One check for both programs: over many generated entries, what the
// sidecar's check accepts, encoded as the sidecar writes it and read back
// through hiredis, the relay accepts with the same values; and what the
// sidecar refuses, the relay refuses too.
TEST(RelayEntry, TheRelayAcceptsExactlyWhatTheSidecarsCheckAccepts) {
  std::mt19937_64 rng(20240613);
  const char kSpecials[] = "\x00\t\n\r\f\x01\x1f\x7f \x80\xff/:@?%\"";
  const std::string specials(kSpecials, sizeof kSpecials - 1);
  // Mostly letters, so that many entries pass; a noisy one in four.
  auto random_text = [&](bool slash_first) {
    std::string s;
    if (slash_first && rng() % 10 != 0) s += '/';
    size_t len = rng() % 12;
    bool noisy = rng() % 4 == 0;
    for (size_t i = 0; i < len; ++i) {
      uint64_t pick = rng() % 20;
      if (!noisy || pick < 10)
        s += static_cast<char>('a' + rng() % 26);
      else if (pick < 19)
        s += specials[rng() % specials.size()];
      else
        s += static_cast<char>(rng() % 256);
    }
    return s;
  };
  const int64_t ts_choices[] = {0,  1,         1700000000000, kMaxEntryTsMs, kMaxEntryTsMs + 1,
                                -1, INT64_MIN, INT64_MAX};
  const char* methods[] = {"POST", "PUT", "GET", "PO ST", "", "P\tST", "M!#$%&'*+-.^_`|~"};
  int accepted = 0, refused = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string event_id = random_text(false), event_type = random_text(false),
                room_id = random_text(false), user_id = random_text(false),
                path = random_text(true), content_type = random_text(false),
                body = random_text(false);
    EventEntry entry;
    entry.event_id = event_id;
    entry.event_type = event_type;
    entry.room_id = room_id;
    entry.user_id = user_id;
    entry.has_user_id = rng() % 2 == 0;
    entry.ts_ms =
        rng() % 4 == 0 ? ts_choices[rng() % 8] : static_cast<int64_t>(rng() % (kMaxEntryTsMs + 1));
    entry.method = methods[rng() % 7];
    entry.path = path;
    entry.content_type = content_type;
    entry.body = body;
    bool sidecar_accepts = !check_entry(entry);

    EncodedEntry encoded(entry);
    std::vector<std::string> kv;
    for (size_t i = 0; i < encoded.size(); ++i) kv.emplace_back(encoded[i]);
    RelayEntry relayed = parse(kv);
    if (!sidecar_accepts) {
      ++refused;
      EXPECT_NE(relayed.malformed, "")
          << "relay accepts what the sidecar refuses: " << testing::PrintToString(kv);
      continue;
    }
    ++accepted;
    ASSERT_EQ(relayed.malformed, "") << testing::PrintToString(kv);
    EXPECT_EQ(relayed.event.event_id, entry.event_id);
    EXPECT_EQ(relayed.event.event_type, entry.event_type);
    EXPECT_EQ(relayed.event.room_id, entry.room_id);
    EXPECT_EQ(relayed.event.ts_ms, entry.ts_ms);
    EXPECT_EQ(relayed.event.method, entry.method);
    EXPECT_EQ(relayed.event.path, entry.path);
    EXPECT_EQ(relayed.event.content_type, entry.content_type);
    EXPECT_EQ(relayed.event.body, entry.body);
  }
  // The generator reaches both sides of the check.
  EXPECT_GT(accepted, 2000);
  EXPECT_GT(refused, 2000);
}

TEST(RelayEntry, ANilFieldListMeansDeletedWhilePending) {
  Reply r = resp::parse(
      "*2\r\n"
      "*2\r\n" +
      bulk("1-0") + resp::bulks(valid_fields()) + "*2\r\n" + bulk("2-0") + "*-1\r\n");
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
  std::string entry = "*1\r\n*2\r\n" + bulk("5-1") + resp::bulks(valid_fields());
  Reply r = resp::parse("*3\r\n*2\r\n" + bulk("events:ticket") + entry + "*2\r\n" +
                        bulk("unknown") + entry + "*2\r\n" + bulk("events:chat") + entry);
  std::vector<std::unique_ptr<RelayEntry>> out;
  parse_read_reply(r.get(), {"events:chat", "events:ticket"}, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]->stream_index, 1u);
  EXPECT_EQ(out[1]->stream_index, 0u);
  EXPECT_NE(out[0]->room_key(), RelayEntry{}.room_key());
  Reply nil = resp::parse("*-1\r\n");
  parse_read_reply(nil.get(), {"events:chat"}, out);
  EXPECT_EQ(out.size(), 2u);
}

}  // namespace
}  // namespace streamshift
