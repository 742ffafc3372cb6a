// Contract v1 of the event entry; see event_entry.h and docs/event-entry.md.
#include "core/event_entry.h"

#include <charconv>

#include "core/http_message.h"

namespace streamshift {
namespace {

namespace f = entry_field;

constexpr std::string_view kEventIdRule =
    "event_id must be 1 or more bytes, none of them a control character (0x00-0x1F, 0x7F), "
    "not starting or ending with a space";
constexpr std::string_view kEventTypeRule = "event_type must not be empty";
constexpr std::string_view kRoomIdRule = "room_id must not be empty";
constexpr std::string_view kTsMsRule =
    "ts_ms must be 1 to 15 decimal digits, from 0 to 253402300799999 (milliseconds since the "
    "Unix epoch)";
constexpr std::string_view kMethodRule =
    "method must be an HTTP token: 1 or more of A-Z a-z 0-9 ! # $ % & ' * + - . ^ _ ` | ~";
constexpr std::string_view kPathRule =
    "path must start with / and hold only 0x21-0x7E but # (no control character, space, "
    "fragment or byte over 0x7E: the ingress percent-encodes those), and no . or .. segment";
constexpr std::string_view kContentTypeRule =
    "content_type must hold no control character (0x00-0x1F, 0x7F) other than tab";

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

bool valid_event_id(std::string_view s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ') return false;
  for (char c : s) {
    if (is_control(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The request target goes into the replayed request line, exactly as the
// ingress accepts one: no fragment, no dot-segment, bytes >= 0x80
// percent-encoded.
bool valid_path(std::string_view s) {
  if (s.empty() || s.front() != '/') return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (is_control(u) || u == ' ' || u == '#' || u >= 0x80) return false;
  }
  return !has_dot_segment(s);
}

bool parse_ts_ms(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 15) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  std::from_chars(s.data(), s.data() + s.size(), *out);  // 15 digits always fit
  return *out <= kMaxEntryTsMs;
}

}  // namespace

bool is_http_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_tchar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool is_relay_set_header(std::string_view name) {
  static constexpr std::string_view kRelaySet[] = {
      "host",       "content-length", "content-type",     "transfer-encoding",
      "connection", "x-event-id",     "x-event-transport"};
  for (std::string_view h : kRelaySet) {
    if (iequals(name, h)) return true;
  }
  return false;
}

// Tab is allowed inside a field value (RFC 9110 5.5).
bool valid_header_value(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (is_control(u) && u != '\t') return false;
  }
  return true;
}

HeaderRefusal entry_header_refusal(std::string_view name) {
  if (!is_http_token(name)) return HeaderRefusal::kNotToken;
  for (std::string_view c : {"authorization", "proxy-authorization", "cookie", "set-cookie"}) {
    if (iequals(name, c)) return HeaderRefusal::kCredential;
  }
  if (is_relay_set_header(name)) return HeaderRefusal::kRelaySet;
  if (is_hop_by_hop_header(name)) return HeaderRefusal::kHopByHop;
  return HeaderRefusal::kNone;
}

bool replayable_header_name(std::string_view name) {
  return entry_header_refusal(name) == HeaderRefusal::kNone;
}

bool replayable_entry_header(std::string_view name, std::string_view value) {
  return replayable_header_name(name) && valid_header_value(value);
}

std::optional<EntryViolation> check_entry(const EventEntry& e) {
  if (!valid_event_id(e.event_id)) return EntryViolation{f::kEventId, kEventIdRule};
  if (e.event_type.empty()) return EntryViolation{f::kEventType, kEventTypeRule};
  if (e.room_id.empty()) return EntryViolation{f::kRoomId, kRoomIdRule};
  if (e.ts_ms < 0 || e.ts_ms > kMaxEntryTsMs) return EntryViolation{f::kTsMs, kTsMsRule};
  if (!is_http_token(e.method)) return EntryViolation{f::kMethod, kMethodRule};
  if (!valid_path(e.path)) return EntryViolation{f::kPath, kPathRule};
  if (!valid_header_value(e.content_type)) return EntryViolation{f::kContentType, kContentTypeRule};
  return std::nullopt;
}

EncodedEntry::EncodedEntry(const EventEntry& e) {
  auto ts_end = std::to_chars(ts_text_, ts_text_ + sizeof ts_text_, e.ts_ms).ptr;
  auto add = [this](std::string_view name, std::string_view value) {
    strings_[count_++] = name;
    strings_[count_++] = value;
  };
  add(f::kVersion, kEntryVersion);
  add(f::kEventId, e.event_id);
  add(f::kEventType, e.event_type);
  add(f::kRoomId, e.room_id);
  if (e.has_user_id) add(f::kUserId, e.user_id);
  add(f::kTsMs, std::string_view(ts_text_, static_cast<size_t>(ts_end - ts_text_)));
  add(f::kMethod, e.method);
  add(f::kPath, e.path);
  add(f::kContentType, e.content_type);
  add(f::kBody, e.body);
  for (size_t i = 0; i < e.header_count && i < kMaxEntryHeaders; ++i)
    add(e.headers[i].field, e.headers[i].value);
}

std::string decode_entry(const std::vector<std::pair<std::string, std::string>>& fields,
                         EventEntry* out) {
  struct Wanted {
    std::string_view name;
    std::string_view* into;
    bool found = false;
  };
  std::string_view version, ts;
  Wanted wanted[] = {{f::kVersion, &version},
                     {f::kEventId, &out->event_id},
                     {f::kEventType, &out->event_type},
                     {f::kRoomId, &out->room_id},
                     {f::kUserId, &out->user_id},
                     {f::kTsMs, &ts},
                     {f::kMethod, &out->method},
                     {f::kPath, &out->path},
                     {f::kContentType, &out->content_type},
                     {f::kBody, &out->body}};
  out->header_count = 0;
  for (const auto& [name, value] : fields) {
    std::string_view n = name;
    if (n.substr(0, f::kHeaderPrefix.size()) == f::kHeaderPrefix) {
      EntryHeader h{n, value};
      bool repeated = false;
      for (size_t i = 0; i < out->header_count; ++i) repeated |= iequals(out->headers[i].field, n);
      if (!repeated && out->header_count < kMaxEntryHeaders &&
          replayable_entry_header(h.name(), value))
        out->headers[out->header_count++] = h;
      continue;
    }
    for (Wanted& w : wanted) {
      if (!w.found && name == w.name) {
        *w.into = value;
        w.found = true;
      }
    }
  }
  // The version first: another version may name its fields differently.
  if (wanted[0].found && version != kEntryVersion)
    return "unknown entry version v=" + std::string(version.substr(0, 32));
  for (const Wanted& w : wanted) {
    if (w.name == f::kUserId) {
      out->has_user_id = w.found;
    } else if (!w.found) {
      return "missing field " + std::string(w.name);
    }
  }
  std::optional<EntryViolation> violation;
  if (!parse_ts_ms(ts, &out->ts_ms))
    violation = EntryViolation{f::kTsMs, kTsMsRule};
  else
    violation = check_entry(*out);
  if (!violation) return {};
  std::string why = "invalid ";
  why += violation->field;
  why += ": ";
  why += violation->detail;
  return why;
}

}  // namespace streamshift
