// Redis Cluster error replies; see redis_cluster_redirect.h.
#include "core/redis_cluster_redirect.h"

#include "core/decimal.h"
#include "core/redis_cluster_slots.h"
#include "core/redis_key_slot.h"

namespace streamshift {
namespace {

struct Kind {
  RedisClusterError error;
  std::string_view word;  // the error's first word; empty: none
  std::string_view name;
  RedisClusterAction action;
};

constexpr Kind kKinds[] = {
    {RedisClusterError::kNone, "", "none", RedisClusterAction::kReturn},
    {RedisClusterError::kMoved, "MOVED", "moved", RedisClusterAction::kRedirect},
    {RedisClusterError::kAsk, "ASK", "ask", RedisClusterAction::kAsking},
    {RedisClusterError::kTryAgain, "TRYAGAIN", "tryagain", RedisClusterAction::kRetryLater},
    {RedisClusterError::kClusterDown, "CLUSTERDOWN", "clusterdown",
     RedisClusterAction::kRetryLater},
    {RedisClusterError::kCrossSlot, "CROSSSLOT", "crossslot", RedisClusterAction::kFail},
    {RedisClusterError::kBadRedirect, "", "bad_redirect", RedisClusterAction::kRefreshTopology},
};

const Kind& kind_of(RedisClusterError error) {
  for (const Kind& k : kKinds) {
    if (k.error == error) return k;
  }
  return kKinds[0];
}

bool parse_number(std::string_view text, unsigned max, unsigned* out) {
  std::optional<int64_t> n = parse_decimal(text, 0, max);
  if (n) *out = static_cast<unsigned>(*n);
  return n.has_value();
}

// "<slot> <endpoint>:<port>" into `reply`; false with reply->why set.
bool parse_redirect(std::string_view args, const RedisHost& answered, RedisClusterReply* reply) {
  size_t space = args.find(' ');
  if (space == std::string_view::npos) {
    reply->why = "not <slot> <endpoint>:<port>";
    return false;
  }
  unsigned slot = 0;
  if (!parse_number(args.substr(0, space), kRedisClusterSlots - 1, &slot)) {
    reply->why = "the slot is not a number from 0 to 16383";
    return false;
  }
  std::string_view address = args.substr(space + 1);
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    reply->why = "the address has no :port";
    return false;
  }
  unsigned port = 0;
  if (!parse_number(address.substr(colon + 1), 65535, &port) || port == 0) {
    reply->why = "the port is not a number from 1 to 65535";
    return false;
  }
  std::string_view host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (!read_cluster_endpoint(host, answered, &reply->target.host, &reply->why)) return false;
  reply->slot = static_cast<uint16_t>(slot);
  reply->target.port = static_cast<uint16_t>(port);
  return true;
}

}  // namespace

std::string_view redis_cluster_error_name(RedisClusterError error) {
  return kind_of(error).name;
}

RedisClusterAction redis_cluster_action(RedisClusterError error) {
  return kind_of(error).action;
}

RedisClusterReply classify_redis_cluster_error(std::string_view text, const RedisHost& answered) {
  if (text.starts_with('-')) text.remove_prefix(1);
  size_t space = text.find(' ');
  std::string_view word = text.substr(0, space);
  RedisClusterReply reply;
  for (const Kind& k : kKinds) {
    if (!k.word.empty() && k.word == word) reply.error = k.error;
  }
  if (reply.error != RedisClusterError::kMoved && reply.error != RedisClusterError::kAsk) {
    return reply;
  }
  std::string_view args = space == std::string_view::npos ? "" : text.substr(space + 1);
  if (!parse_redirect(args, answered, &reply)) {
    reply.why = std::string(word) + ": " + reply.why;
    reply.error = RedisClusterError::kBadRedirect;
    reply.slot = 0;
    reply.target = {};
  }
  return reply;
}

}  // namespace streamshift
