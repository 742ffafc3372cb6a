// Fuzz target: the Redis Cluster client's reading of what nodes say:
// CLUSTER SLOTS replies into the slot map (core/redis_cluster_slots) and
// error replies into redirects and retries (core/redis_cluster_redirect).
//
// Input: [mode byte][bytes]. Even mode: the bytes a node sends, read into
// replies by RedisReplyReader (the client's own reader and bounds); each
// reply is parsed as CLUSTER SLOTS' and, when it is text, classified as an
// error reply. Odd mode: the bytes are one error reply's text.
// Checked:
//  - never a crash; a refused CLUSTER SLOTS reply says why, in printable
//    text (it goes to logs);
//  - an accepted one is what a plain reading of the reply says: every slot
//    of every range served by that range's primary (the endpoint, or the
//    node asked when nil or empty), every other slot uncovered and listed
//    as such; each shard counts its slots, no two share a primary;
//  - MOVED updates (slot and port from the input) change that slot only,
//    keep the counts right and the shards bounded;
//  - a classification follows the error's first word; a MOVED or ASK
//    accepted has a slot below 16384, a port, a plausible host, and the
//    same text written as Redis writes it classifies the same; a refused
//    one says why.
#include <hiredis/hiredis.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/redis_cluster_redirect.h"
#include "core/redis_cluster_slots.h"
#include "core/redis_key_slot.h"
#include "core/redis_reply_reader.h"
#include "fuzz/fuzz_check.h"

namespace streamshift::fuzz {
namespace {

const RedisHost kAsked{"10.0.0.9", 7009};

bool printable_text(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) return false;
  }
  return true;
}

// Each shard's slot count and distinct primaries, against the slot table.
void check_counts(const RedisClusterSlots& map, const std::string& what) {
  const std::vector<RedisClusterShard>& shards = map.shards();
  FUZZ_CHECK(shards.size() <= kRedisClusterSlots, what);
  std::vector<size_t> counted(shards.size(), 0);
  size_t covered = 0;
  for (uint16_t slot = 0; slot < kRedisClusterSlots; ++slot) {
    const RedisClusterShard* shard = map.shard_of(slot);
    if (shard == nullptr) continue;
    ++covered;
    ++counted[static_cast<size_t>(shard - shards.data())];
  }
  std::set<std::pair<std::string, uint16_t>> primaries;
  for (size_t i = 0; i < shards.size(); ++i) {
    FUZZ_CHECK(shards[i].slots == counted[i], what + ": a shard's count");
    FUZZ_CHECK(shards[i].primary.address.port != 0, what);
    FUZZ_CHECK(plausible_redis_host(shards[i].primary.address.host), what);
    FUZZ_CHECK(
        primaries.emplace(shards[i].primary.address.host, shards[i].primary.address.port).second,
        what + ": two shards with one primary");
  }
  size_t uncovered = 0;
  int previous_last = -2;
  for (const RedisSlotRange& r : map.uncovered()) {
    FUZZ_CHECK(r.first <= r.last && r.last < kRedisClusterSlots, what);
    FUZZ_CHECK(r.first > previous_last + 1, what + ": uncovered ranges unsorted or adjacent");
    previous_last = r.last;
    for (uint32_t slot = r.first; slot <= r.last; ++slot) {
      FUZZ_CHECK(map.shard_of(static_cast<uint16_t>(slot)) == nullptr, what);
    }
    uncovered += r.last - r.first + 1u;
  }
  FUZZ_CHECK(covered + uncovered == kRedisClusterSlots, what);
  FUZZ_CHECK(map.uncovered_text().empty() == (uncovered == 0), what);
}

// The accepted map against a plain reading of the (then well-formed) reply.
void check_against_reply(const RedisClusterSlots& map, const redisReply* reply) {
  for (size_t i = 0; i < reply->elements; ++i) {
    const redisReply* range = reply->element[i];
    const redisReply* primary = range->element[2];
    const redisReply* endpoint = primary->element[0];
    std::string host = endpoint->type == REDIS_REPLY_NIL || endpoint->len == 0
                           ? kAsked.host
                           : std::string(endpoint->str, endpoint->len);
    RedisHost want{host, static_cast<uint16_t>(primary->element[1]->integer)};
    for (long long slot = range->element[0]->integer; slot <= range->element[1]->integer; ++slot) {
      const RedisClusterShard* shard = map.shard_of(static_cast<uint16_t>(slot));
      FUZZ_CHECK(shard != nullptr && shard->primary.address == want,
                 "range " + std::to_string(i + 1) + ", slot " + std::to_string(slot));
    }
  }
}

void check_moves(RedisClusterSlots map, std::string_view input) {
  for (size_t i = 0; i + 3 <= input.size() && i < 6; i += 3) {  // two MOVEDs
    auto slot = static_cast<uint16_t>(
        (static_cast<uint8_t>(input[i]) << 8 | static_cast<uint8_t>(input[i + 1])) %
        kRedisClusterSlots);
    RedisHost target{i % 2 ? "10.0.0.9" : "moved.example",
                     static_cast<uint16_t>(static_cast<uint8_t>(input[i + 2]) + 1)};
    std::vector<RedisHost> before(kRedisClusterSlots);
    for (uint16_t s = 0; s < kRedisClusterSlots; ++s) {
      if (const RedisClusterShard* shard = map.shard_of(s)) before[s] = shard->primary.address;
    }
    bool changed = map.move(slot, target);
    FUZZ_CHECK(changed == !(before[slot] == target), "move's answer");
    FUZZ_CHECK(map.shard_of(slot) != nullptr && map.shard_of(slot)->primary.address == target,
               "the moved slot");
    for (uint16_t s = 0; s < kRedisClusterSlots; ++s) {
      if (s == slot) continue;
      const RedisClusterShard* shard = map.shard_of(s);
      RedisHost now = shard == nullptr ? RedisHost{} : shard->primary.address;
      FUZZ_CHECK(now == before[s], "slot " + std::to_string(s) + " changed by another's MOVED");
    }
    check_counts(map, "after a MOVED");
  }
}

void check_slots(const redisReply* reply, std::string_view input) {
  std::string why;
  std::optional<RedisClusterSlots> map = RedisClusterSlots::parse(reply, kAsked, &why);
  if (!map) {
    FUZZ_CHECK(why.starts_with("CLUSTER SLOTS: ") && printable_text(why), printable(why));
    return;
  }
  FUZZ_CHECK(reply->type == REDIS_REPLY_ARRAY, "accepted a reply that is no array");
  check_against_reply(*map, reply);
  check_counts(*map, "parsed");
  check_moves(std::move(*map), input);
}

void check_error(std::string_view text) {
  RedisClusterReply r = classify_redis_cluster_error(text, kAsked);
  std::string what = "error text " + printable(text);
  std::string_view body = text.starts_with('-') ? text.substr(1) : text;
  std::string_view word = body.substr(0, body.find(' '));
  bool redirect = word == "MOVED" || word == "ASK";
  FUZZ_CHECK(!redis_cluster_error_name(r.error).empty(), what);
  switch (r.error) {
    case RedisClusterError::kMoved:
    case RedisClusterError::kAsk: {
      FUZZ_CHECK(word == (r.error == RedisClusterError::kMoved ? "MOVED" : "ASK"), what);
      FUZZ_CHECK(r.slot < kRedisClusterSlots && r.target.port != 0 &&
                     plausible_redis_host(r.target.host) && r.why.empty(),
                 what);
      std::string again = std::string(word) + " " + std::to_string(r.slot) + " " + r.target.host +
                          ":" + std::to_string(r.target.port);
      RedisClusterReply back = classify_redis_cluster_error(again, kAsked);
      FUZZ_CHECK(back.error == r.error && back.slot == r.slot && back.target == r.target,
                 what + " written again: " + printable(again));
      break;
    }
    case RedisClusterError::kBadRedirect:
      FUZZ_CHECK(redirect && !r.why.empty() && printable_text(r.why), what + ": " + r.why);
      break;
    case RedisClusterError::kTryAgain:
      FUZZ_CHECK(word == "TRYAGAIN", what);
      break;
    case RedisClusterError::kClusterDown:
      FUZZ_CHECK(word == "CLUSTERDOWN", what);
      break;
    case RedisClusterError::kCrossSlot:
      FUZZ_CHECK(word == "CROSSSLOT", what);
      break;
    case RedisClusterError::kNone:
      FUZZ_CHECK(!redirect && word != "TRYAGAIN" && word != "CLUSTERDOWN" && word != "CROSSSLOT",
                 what);
      break;
  }
}

}  // namespace
}  // namespace streamshift::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace streamshift;
  using namespace streamshift::fuzz;
  if (size < 1) return 0;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 1) {
    check_error(input);
    return 0;
  }
  RedisReplyReader reader{RedisReplyLimits{}};
  if (!reader.feed(input.data(), input.size())) return 0;
  while (ReplyPtr reply = reader.next()) {
    check_slots(reply.get(), input);
    if (reply->type == REDIS_REPLY_ERROR || reply->type == REDIS_REPLY_STATUS ||
        reply->type == REDIS_REPLY_STRING) {
      check_error({reply->str, reply->len});
    }
  }
  return 0;
}
