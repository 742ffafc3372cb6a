// Fuzz target: the relay's entry decoding and checks (relay/relay_entry),
// and the request it replays (replay_request_head, relay/delivery_policy).
//
// Input: [mode byte][rest].
//  mode even: rest is RESP from Redis, read by hiredis's reader; each reply
//             goes through parse_read_reply (XREADGROUP) and, as the relay
//             does with an XAUTOCLAIM reply, parse_entries on its element 1.
//  mode odd:  rest is one entry, its parts separated by 0xff bytes: stream
//             name, entry id, then field, value, field, value, ...; it is
//             encoded as an XREADGROUP reply and read the same way, so the
//             fuzzer works on field values rather than on RESP lengths.
// Checked, for every entry: a deleted entry has no fields; an entry the
// relay would deliver satisfies contract v1 (docs/event-entry.md: v=1,
// non-empty event_id and room_id, token method, origin-form path, no
// control characters in what goes into the request head, first occurrence
// of a field wins), its views point into its own fields; and its replayed
// request is exactly one request: the head has only the line breaks the
// relay writes, and our own request reader (limits off) frames it as one
// request with the entry's method, target, body and X-Event-Id.
#include <hiredis/hiredis.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_request_reader.h"
#include "core/net_address.h"
#include "core/redis_reply_limits.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/resp.h"
#include "relay/delivery_policy.h"
#include "relay/relay_entry.h"

namespace streamshift::fuzz {
namespace {

const std::vector<std::string> kStreams = {"events:chat", "events:ticket"};

bool inside(std::string_view view, const RelayEntry& e) {
  if (view.empty()) return true;
  for (const auto& [name, value] : e.fields) {
    if (view.data() >= value.data() && view.data() + view.size() <= value.data() + value.size())
      return true;
  }
  return false;
}

std::string_view first_value(const RelayEntry& e, std::string_view name) {
  for (const auto& [n, v] : e.fields) {
    if (n == name) return v;
  }
  return {};
}

bool has_control(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

std::string trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

void check_replay(const RelayEntry& e, const std::string& what) {
  static const HttpUrl target = [] {
    std::string why;
    auto url = parse_http_url("http://signalr:8080/base", &why);
    FUZZ_CHECK(url.has_value(), why);
    return *url;
  }();
  std::string head = replay_request_head(e, target, {});
  // Only the relay's own line breaks: request line, Host, [Content-Type],
  // Content-Length, X-Event-Id, X-Event-Transport, one per replayable
  // captured header (h: fields), and the empty line.
  size_t lines = (e.event.content_type.empty() ? 6 : 7) + e.event.header_count;
  size_t crlf = 0;
  for (size_t p = head.find("\r\n"); p != std::string::npos; p = head.find("\r\n", p + 2)) ++crlf;
  size_t cr = 0, lf = 0;
  for (char c : head) {
    cr += c == '\r';
    lf += c == '\n';
  }
  FUZZ_CHECK(crlf == lines && cr == lines && lf == lines, what + "\n  head: " + printable(head));
  FUZZ_CHECK(head.find("\r\n\r\n") == head.size() - 4, what + "\n  head: " + printable(head));
  std::string request_line = head.substr(0, head.find("\r\n"));
  FUZZ_CHECK(std::count(request_line.begin(), request_line.end(), ' ') == 2,
             what + "\n  head: " + printable(head));

  HttpRequestReader::Limits limits;
  limits.max_header_bytes = head.size() + 1;
  limits.max_body_bytes = e.event.body.size();
  HttpRequestReader reader(limits);
  std::string wire = head;
  wire.append(e.event.body);
  size_t used = 0;
  auto p = reader.consume(wire.data(), wire.size(), &used);
  if (p == HttpRequestReader::Progress::kNeedMore) {
    size_t more = 0;
    p = reader.consume(wire.data() + used, wire.size() - used, &more);
    used += more;
  }
  if (p == HttpRequestReader::Progress::kError) {
    // llhttp knows a fixed list of methods; a token it does not know (or
    // CONNECT) is refused before anything else. Nothing else may fail.
    FUZZ_CHECK(
        reader.error().status == 405 || (reader.error().code == "malformed_request" &&
                                         reader.error().detail.find("HPE_INVALID_METHOD") == 0),
        what + "\n  refused: " + reader.error().detail + "\n  head: " + printable(head));
    return;
  }
  FUZZ_CHECK(p == HttpRequestReader::Progress::kComplete && used == wire.size(),
             what + "\n  head: " + printable(head));
  HttpRequest& r = reader.request();
  FUZZ_CHECK(r.method == e.event.method && r.target() == "/base" + std::string(e.event.path) &&
                 r.body == e.event.body,
             what + "\n  head: " + printable(head));
  FUZZ_CHECK(r.headers.size() == lines - 2, what + "\n  head: " + printable(head));
  auto id = r.headers.find("x-event-id");
  FUZZ_CHECK(id && *id == trimmed(e.event.event_id), what + "\n  head: " + printable(head));
}

void check_entry(const RelayEntry& e) {
  std::string what = "entry " + printable(e.id) + ": " + (e.deleted ? "deleted" : e.malformed);
  for (const auto& [n, v] : e.fields) what += " | " + printable(n, 40) + "=" + printable(v, 60);
  FUZZ_CHECK(!e.id.empty(), what);
  if (e.deleted) {
    FUZZ_CHECK(e.fields.empty() && e.malformed.empty(), what);
    return;
  }
  if (!e.malformed.empty()) return;  // dead-lettered, never replayed
  FUZZ_CHECK(first_value(e, "v") == "1", what);
  const std::string_view* views[] = {&e.event.event_id, &e.event.event_type, &e.event.room_id,
                                     &e.event.method,   &e.event.path,       &e.event.content_type,
                                     &e.event.body};
  const char* names[] = {"event_id", "event_type",   "room_id", "method",
                         "path",     "content_type", "body"};
  for (size_t i = 0; i < 7; ++i) {
    FUZZ_CHECK(inside(*views[i], e), what);
    FUZZ_CHECK(*views[i] == first_value(e, names[i]), what + " (" + names[i] + ")");
  }
  FUZZ_CHECK(!e.event.event_id.empty() && !has_control(e.event.event_id), what);
  FUZZ_CHECK(!e.event.room_id.empty(), what);
  FUZZ_CHECK(!e.event.method.empty() && !has_control(e.event.method) &&
                 e.event.method.find(' ') == std::string_view::npos,
             what);
  FUZZ_CHECK(!e.event.path.empty() && e.event.path[0] == '/' && !has_control(e.event.path) &&
                 e.event.path.find(' ') == std::string_view::npos,
             what);
  // A header value: HTAB is allowed inside it (RFC 9110), no other control.
  std::string content_type(e.event.content_type);
  for (char& c : content_type) c = c == '\t' ? ' ' : c;
  FUZZ_CHECK(!has_control(content_type), what);
  check_replay(e, what);
}

// The replies as the relay's Redis client reads them: with the bounds of
// every connection (an array header of two billion elements fails it).
void read_replies(std::string_view resp) {
  streamshift::ReplyGuard guard{streamshift::RedisReplyLimits{}};  // outlives the reader
  Reader reader(redisReaderCreate());
  guard.attach(reader.get());
  FUZZ_CHECK(redisReaderFeed(reader.get(), resp.data(), resp.size()) == REDIS_OK, "feed");
  for (;;) {
    void* raw = nullptr;
    if (redisReaderGetReply(reader.get(), &raw) != REDIS_OK || raw == nullptr) return;
    Reply reply(static_cast<redisReply*>(raw));
    std::vector<std::unique_ptr<RelayEntry>> entries;
    parse_read_reply(reply.get(), kStreams, entries);
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2) {
      parse_entries(reply->element[1], 0, entries);  // as for an XAUTOCLAIM reply
    }
    for (const auto& e : entries) {
      FUZZ_CHECK(e->stream_index < kStreams.size(), "stream index");
      check_entry(*e);
    }
  }
}

// Stream name, id, field, value, ... separated by 0xff, as an XREADGROUP reply.
std::string encode_entry(std::string_view rest) {
  std::vector<std::string_view> parts = split(rest, '\xff');
  while (parts.size() < 2) parts.emplace_back();
  std::string fields = "*" + std::to_string(parts.size() - 2) + "\r\n";
  for (size_t i = 2; i < parts.size(); ++i) fields += bulk(parts[i]);
  return "*1\r\n*2\r\n" + bulk(parts[0]) + "*1\r\n*2\r\n" + bulk(parts[1]) + fields;
}

}  // namespace
}  // namespace streamshift::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace streamshift::fuzz;
  if (size < 1) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 1) {
    read_replies(encode_entry(rest));
  } else {
    read_replies(rest);
  }
  return 0;
}
