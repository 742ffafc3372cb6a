// Parsing and checking stream entries; see relay_entry.h.
#include "relay/relay_entry.h"

#include <charconv>

namespace streamshift {
namespace {

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '!' || c == '#' || c == '$' || c == '%' ||
              c == '&' || c == '\'' || c == '*' || c == '+' || c == '^' || c == '`' || c == '|' ||
              c == '~';
    if (!ok) return false;
  }
  return true;
}

// A value that goes into a request line or header: no control characters,
// so a stored field can never inject a header or split the request.
bool is_header_safe(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

std::string check(RelayEntry& e) {
  struct Wanted {
    std::string_view name;
    std::string_view* into;
    bool found = false;
  };
  std::string_view version, ts;
  Wanted wanted[] = {{"v", &version},
                     {"event_id", &e.event_id},
                     {"event_type", &e.event_type},
                     {"room_id", &e.room_id},
                     {"ts_ms", &ts},
                     {"method", &e.method},
                     {"path", &e.path},
                     {"content_type", &e.content_type},
                     {"body", &e.body}};
  for (const auto& [name, value] : e.fields) {
    for (Wanted& w : wanted) {
      if (!w.found && name == w.name) {
        *w.into = value;
        w.found = true;
      }
    }
  }
  // The version first: another version may name its fields differently.
  if (wanted[0].found && version != "1")
    return "unknown entry version v=" + std::string(version.substr(0, 32));
  for (const Wanted& w : wanted) {
    if (!w.found) return "missing field " + std::string(w.name);
  }
  if (e.event_id.empty() || !is_header_safe(e.event_id)) return "invalid event_id";
  if (e.room_id.empty()) return "empty room_id";
  auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), e.ts_ms);
  if (ec != std::errc() || end != ts.data() + ts.size()) return "invalid ts_ms";
  if (!is_token(e.method)) return "invalid method";
  if (e.path.empty() || e.path[0] != '/' || !is_header_safe(e.path) ||
      e.path.find(' ') != std::string_view::npos) {
    return "invalid path";
  }
  if (!is_header_safe(e.content_type)) return "invalid content_type";
  return {};
}

}  // namespace

std::string_view reply_text(const redisReply* r) {
  if (r == nullptr || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)) return {};
  return {r->str, r->len};
}

std::string RelayEntry::room_key() const {
  std::string key = std::to_string(stream_index);
  key += ':';
  key += room_id;
  return key;
}

void parse_entry_fields(RelayEntry& e, const redisReply* field_array) {
  if (field_array == nullptr || field_array->type == REDIS_REPLY_NIL) {
    e.deleted = true;
    return;
  }
  if (field_array->type != REDIS_REPLY_ARRAY || field_array->elements % 2 != 0) {
    e.malformed = "field list is not an array of pairs";
    return;
  }
  e.fields.reserve(field_array->elements / 2);
  for (size_t i = 0; i + 1 < field_array->elements; i += 2) {
    e.fields.emplace_back(std::string(reply_text(field_array->element[i])),
                          std::string(reply_text(field_array->element[i + 1])));
  }
  e.malformed = check(e);
}

void parse_entries(const redisReply* entries, size_t stream_index,
                   std::vector<std::unique_ptr<RelayEntry>>& out) {
  if (entries == nullptr || entries->type != REDIS_REPLY_ARRAY) return;
  for (size_t i = 0; i < entries->elements; ++i) {
    const redisReply* item = entries->element[i];
    if (item == nullptr || item->type != REDIS_REPLY_ARRAY || item->elements < 1) continue;
    std::string_view id = reply_text(item->element[0]);
    if (id.empty()) continue;
    auto e = std::make_unique<RelayEntry>();
    e->stream_index = stream_index;
    e->id = id;
    parse_entry_fields(*e, item->elements > 1 ? item->element[1] : nullptr);
    out.push_back(std::move(e));
  }
}

void parse_read_reply(const redisReply* reply, const std::vector<std::string>& streams,
                      std::vector<std::unique_ptr<RelayEntry>>& out) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return;
  for (size_t i = 0; i < reply->elements; ++i) {
    const redisReply* pair = reply->element[i];
    if (pair == nullptr || pair->type != REDIS_REPLY_ARRAY || pair->elements != 2) continue;
    std::string_view name = reply_text(pair->element[0]);
    for (size_t s = 0; s < streams.size(); ++s) {
      if (streams[s] == name) {
        parse_entries(pair->element[1], s, out);
        break;
      }
    }
  }
}

}  // namespace streamshift
