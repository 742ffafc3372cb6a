// Parsing and checking stream entries; see relay_entry.h.
#include "relay/relay_entry.h"

namespace streamshift {

std::string_view reply_text(const redisReply* r) {
  if (r == nullptr || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)) return {};
  return {r->str, r->len};
}

std::string RelayEntry::room_key() const {
  std::string key = std::to_string(stream_index);
  key += ':';
  key += event.room_id;
  return key;
}

bool RelayEntry::redriven() const {
  for (const auto& [name, value] : fields)
    if (name == "redriven_from") return true;
  return false;
}

StreamId RelayEntry::stream_id() const {
  return StreamId::parse(id).value_or(StreamId{});
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
  e.malformed = decode_entry(e.fields, &e.event);
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
