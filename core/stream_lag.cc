// XINFO replies for consumer lag; see stream_lag.h.
#include "core/stream_lag.h"

#include "core/stream_id.h"

namespace streamshift {
namespace {

std::string text(const redisReply* r) {
  if (r == nullptr || r->str == nullptr) return "";
  return std::string(r->str, r->len);
}

bool is_array(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_ARRAY;
}

}  // namespace

const redisReply* xinfo_field(const redisReply* map, std::string_view key) {
  if (!is_array(map)) return nullptr;
  for (size_t i = 0; i + 1 < map->elements; i += 2) {
    const redisReply* k = map->element[i];
    if ((k->type == REDIS_REPLY_STRING || k->type == REDIS_REPLY_STATUS) &&
        std::string_view(k->str, k->len) == key) {
      return map->element[i + 1];
    }
  }
  return nullptr;
}

XinfoStream parse_xinfo_stream(const redisReply* reply) {
  XinfoStream s;
  if (const redisReply* length = xinfo_field(reply, "length")) s.length = length->integer;
  if (const redisReply* groups = xinfo_field(reply, "groups")) s.groups = groups->integer;
  s.max_deleted_id = text(xinfo_field(reply, "max-deleted-entry-id"));
  return s;
}

XinfoGroup parse_xinfo_group(const redisReply* reply, std::string_view group) {
  XinfoGroup found;
  if (!is_array(reply)) return found;
  for (size_t i = 0; i < reply->elements; ++i) {
    const redisReply* row = reply->element[i];
    if (text(xinfo_field(row, "name")) != group) continue;
    found.found = true;
    found.last_delivered_id = text(xinfo_field(row, "last-delivered-id"));
    const redisReply* lag = xinfo_field(row, "lag");
    if (lag != nullptr && lag->type == REDIS_REPLY_INTEGER)
      found.lag = lag->integer;
    else
      found.lag.reset();
  }
  return found;
}

std::vector<std::string> parse_xinfo_consumers(const redisReply* reply) {
  std::vector<std::string> names;
  if (!is_array(reply)) return names;
  for (size_t i = 0; i < reply->elements; ++i)
    names.push_back(text(xinfo_field(reply->element[i], "name")));
  return names;
}

bool stream_id_less(const std::string& a, const std::string& b) {
  return StreamId::parse(a).value_or(StreamId{}) < StreamId::parse(b).value_or(StreamId{});
}

bool trimmed_unread(const std::string& last_delivered_id, const std::string& max_deleted_id) {
  if (max_deleted_id.empty() || max_deleted_id == "0-0") return false;
  return stream_id_less(last_delivered_id.empty() ? "0-0" : last_delivered_id, max_deleted_id);
}

}  // namespace streamshift
