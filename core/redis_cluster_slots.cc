// The Redis Cluster slot map; see redis_cluster_slots.h.
#include "core/redis_cluster_slots.h"

#include <map>
#include <utility>

#include "core/redis_key_slot.h"

namespace streamshift {
namespace {

// "a string", "an array", ... (with its article).
std::string_view type_name(int type) {
  switch (type) {
    case REDIS_REPLY_STRING:
      return "a string";
    case REDIS_REPLY_ARRAY:
      return "an array";
    case REDIS_REPLY_INTEGER:
      return "an integer";
    case REDIS_REPLY_NIL:
      return "nil";
    case REDIS_REPLY_STATUS:
      return "a status";
    case REDIS_REPLY_ERROR:
      return "an error";
  }
  return "a reply of unknown type";
}

// At most 120 bytes of a server's text, control and non-ASCII bytes as '?'.
std::string excerpt(std::string_view text) {
  constexpr size_t kMax = 120;
  std::string out;
  for (size_t i = 0; i < text.size() && i < kMax; ++i) {
    auto u = static_cast<unsigned char>(text[i]);
    out += u < 0x20 || u >= 0x7f ? '?' : text[i];
  }
  if (text.size() > kMax) out += "...";
  return out;
}

std::string range_text(long long first, long long last) {
  return first == last ? std::to_string(first) : std::to_string(first) + "-" + std::to_string(last);
}

// [endpoint, port, id?, ...] into `node`; false with `*why` set.
bool parse_node(const redisReply* r, const RedisHost& asked, RedisClusterNode* node,
                std::string* why) {
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
    *why = "not an array of [endpoint, port, id, ...]";
    return false;
  }
  const redisReply* endpoint = r->element[0];
  const redisReply* port = r->element[1];
  std::string_view host;
  if (endpoint->type == REDIS_REPLY_STRING) {
    host = {endpoint->str, endpoint->len};
  } else if (endpoint->type != REDIS_REPLY_NIL) {
    *why = "the endpoint is " + std::string(type_name(endpoint->type)) + ", not a string or nil";
    return false;
  }
  if (!read_cluster_endpoint(host, asked, &node->address.host, why)) return false;
  if (port->type != REDIS_REPLY_INTEGER) {
    *why = "the port is " + std::string(type_name(port->type)) + ", not an integer";
    return false;
  }
  if (port->integer < 1 || port->integer > 65535) {
    *why = "the port " + std::to_string(port->integer) + " is not from 1 to 65535";
    return false;
  }
  if (r->elements >= 3 && r->element[2]->type != REDIS_REPLY_STRING) {
    *why = "the node id is " + std::string(type_name(r->element[2]->type)) + ", not a string";
    return false;
  }
  node->address.port = static_cast<uint16_t>(port->integer);
  if (r->elements >= 3) node->id.assign(r->element[2]->str, r->element[2]->len);
  return true;
}

}  // namespace

bool read_cluster_endpoint(std::string_view endpoint, const RedisHost& asked, std::string* host,
                           std::string* why) {
  if (endpoint == "?") {
    *why =
        "the endpoint is '?': the node is to be reached by a hostname it does not have "
        "(cluster-preferred-endpoint-type hostname)";
    return false;
  }
  if (!endpoint.empty() && !plausible_redis_host(endpoint)) {
    *why = "the endpoint '" + excerpt(endpoint) + "' is not a host name or address";
    return false;
  }
  *host = endpoint.empty() ? asked.host : std::string(endpoint);
  return true;
}

RedisClusterSlots::RedisClusterSlots() : shard_of_(kRedisClusterSlots, kNone) {}

std::optional<RedisClusterSlots> RedisClusterSlots::parse(const redisReply* reply,
                                                          const RedisHost& asked,
                                                          std::string* why) {
  if (reply == nullptr) {
    *why = "CLUSTER SLOTS: no reply";
    return std::nullopt;
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    *why = "CLUSTER SLOTS: the node answered an error: " + excerpt({reply->str, reply->len});
    return std::nullopt;
  }
  if (reply->type != REDIS_REPLY_ARRAY) {
    *why = "CLUSTER SLOTS: the reply is " + std::string(type_name(reply->type)) +
           ", not an array of slot ranges";
    return std::nullopt;
  }
  RedisClusterSlots map;
  std::map<std::pair<std::string, uint16_t>, uint16_t> primaries;  // find() is linear
  for (size_t i = 0; i < reply->elements; ++i) {
    const redisReply* range = reply->element[i];
    std::string where = "CLUSTER SLOTS: range " + std::to_string(i + 1) + ": ";
    if (range->type != REDIS_REPLY_ARRAY || range->elements < 3) {
      *why = where + "not an array of [start, end, primary, replicas...]";
      return std::nullopt;
    }
    const redisReply* first = range->element[0];
    const redisReply* last = range->element[1];
    if (first->type != REDIS_REPLY_INTEGER || last->type != REDIS_REPLY_INTEGER) {
      *why = where + "start and end are not integers";
      return std::nullopt;
    }
    if (first->integer < 0 || last->integer >= kRedisClusterSlots ||
        first->integer > last->integer) {
      *why = where + "slots " + std::to_string(first->integer) + " to " +
             std::to_string(last->integer) + " are not a range within 0-16383";
      return std::nullopt;
    }
    RedisClusterShard shard;
    if (!parse_node(range->element[2], asked, &shard.primary, why)) {
      *why = where + "primary: " + *why;
      return std::nullopt;
    }
    for (size_t r = 3; r < range->elements; ++r) {
      // Nothing is routed to a replica: one without a usable address (port
      // 0 while it is being forgotten or has not met the cluster yet) is
      // left out rather than costing the client the whole map.
      RedisClusterNode replica;
      std::string replica_why;
      if (parse_node(range->element[r], asked, &replica, &replica_why))
        shard.replicas.push_back(std::move(replica));
    }
    auto [known, added] =
        primaries.try_emplace({shard.primary.address.host, shard.primary.address.port},
                              static_cast<uint16_t>(map.shards_.size()));
    uint16_t index = known->second;
    if (added) map.shards_.push_back(std::move(shard));
    for (auto slot = static_cast<size_t>(first->integer);
         slot <= static_cast<size_t>(last->integer); ++slot) {
      if (map.shard_of_[slot] != kNone) {
        *why = where + "slot " + std::to_string(slot) + " is in an earlier range too";
        return std::nullopt;
      }
      map.shard_of_[slot] = index;
    }
    map.shards_[index].slots += static_cast<size_t>(last->integer - first->integer + 1);
  }
  return map;
}

const RedisClusterShard* RedisClusterSlots::shard_of(uint16_t slot) const {
  if (slot >= kRedisClusterSlots || shard_of_[slot] == kNone) return nullptr;
  return &shards_[shard_of_[slot]];
}

std::vector<RedisSlotRange> RedisClusterSlots::uncovered() const {
  std::vector<RedisSlotRange> out;
  for (uint16_t slot = 0; slot < kRedisClusterSlots; ++slot) {
    if (shard_of_[slot] != kNone) continue;
    if (!out.empty() && out.back().last + 1 == slot) {
      out.back().last = slot;
    } else {
      out.push_back({slot, slot});
    }
  }
  return out;
}

std::string RedisClusterSlots::uncovered_text() const {
  std::vector<RedisSlotRange> ranges = uncovered();
  if (ranges.empty()) return "";
  std::string out = "no primary serves slots ";
  for (size_t i = 0; i < ranges.size(); ++i) {
    if (i > 0) out += ", ";
    out += range_text(ranges[i].first, ranges[i].last);
  }
  return out;
}

bool RedisClusterSlots::move(uint16_t slot, const RedisHost& primary) {
  if (slot >= kRedisClusterSlots) return false;
  uint16_t from = shard_of_[slot];
  uint16_t to = find(primary);
  if (to != kNone && to == from) return false;
  if (from != kNone) --shards_[from].slots;
  if (to == kNone) {
    for (uint16_t i = 0; i < shards_.size() && to == kNone; ++i) {
      if (shards_[i].slots == 0) to = i;
    }
    if (to == kNone) {
      to = static_cast<uint16_t>(shards_.size());
      shards_.emplace_back();
    }
    shards_[to] = RedisClusterShard{};
    shards_[to].primary.address = primary;
  }
  ++shards_[to].slots;
  shard_of_[slot] = to;
  return true;
}

uint16_t RedisClusterSlots::find(const RedisHost& address) const {
  for (size_t i = 0; i < shards_.size(); ++i) {
    if (shards_[i].primary.address == address) return static_cast<uint16_t>(i);
  }
  return kNone;
}

}  // namespace streamshift
