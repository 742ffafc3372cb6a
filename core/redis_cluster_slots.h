// The Redis Cluster slot map: which primary serves each of the 16384 slots
// (core/redis_key_slot.h), with its replicas, read from a node's CLUSTER
// SLOTS reply and kept current by MOVED redirects between two readings.
//
// CLUSTER SLOTS (RESP2, Redis 3.0 to 7.x):
//   [ [start, end, [endpoint, port, id, metadata...], replica node..., ...], ... ]
// start and end are integers (both slots included), a node's endpoint a
// string (IP or hostname, as cluster-preferred-endpoint-type says) or nil,
// its port an integer; the id is there from 3.2 on and the metadata (a
// hostname) from 7.0 on. A nil or empty endpoint means "the node you asked"
// (unknown-endpoint, or a node that does not know its own IP).
//
// A reply is taken whole or refused with a reason, whatever its shape:
// wrong types, short arrays, slots outside 0-16383 or in two ranges, ports
// outside 1-65535, an endpoint "?" (hostname type with no hostname) or one
// that is no host name. Slots no range names are uncovered: served by no
// primary (a cluster being set up, or one that lost a shard); the map says
// which, the client decides.
#pragma once

#include <hiredis/hiredis.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/redis_url.h"

namespace streamshift {

struct RedisClusterNode {
  RedisHost address;
  std::string id;  // 40 hex digits; empty when the reply has none (Redis 3.0)
};

struct RedisClusterShard {
  RedisClusterNode primary;
  std::vector<RedisClusterNode> replicas;  // unknown (empty) after a MOVED to a new primary
  size_t slots = 0;                        // how many slots it serves; 0: none any more
};

/// Slots first to last, both included.
struct RedisSlotRange {
  uint16_t first = 0;
  uint16_t last = 0;
  bool operator==(const RedisSlotRange&) const = default;
};

/// A node's endpoint as CLUSTER SLOTS and MOVED/ASK give it into `*host`:
/// "" is the host of `asked` (the node that answered); "?" and text that is
/// no host name or address are refused (false, `*why` says why).
bool read_cluster_endpoint(std::string_view endpoint, const RedisHost& asked, std::string* host,
                           std::string* why);

class RedisClusterSlots {
 public:
  /// CLUSTER SLOTS' reply, from the node `asked` (the endpoint of nodes
  /// given without one). nullopt with `*why` set when it is not one.
  static std::optional<RedisClusterSlots> parse(const redisReply* reply, const RedisHost& asked,
                                                std::string* why);

  /// The shard serving `slot` (0-16383), or null when none does.
  const RedisClusterShard* shard_of(uint16_t slot) const;
  /// Every shard, each primary once; some may serve no slot (slots == 0)
  /// once MOVED redirects took all of theirs.
  const std::vector<RedisClusterShard>& shards() const { return shards_; }
  /// The slots served by no primary, in order.
  std::vector<RedisSlotRange> uncovered() const;
  /// "" when every slot is served, else "no primary serves slots 0-99, 5461".
  std::string uncovered_text() const;

  /// A MOVED: `slot` is served by `primary` now (a shard of its own if no
  /// known primary is at that address). True when the map changed.
  bool move(uint16_t slot, const RedisHost& primary);

 private:
  static constexpr uint16_t kNone = 0xffff;
  RedisClusterSlots();
  // The index of the shard whose primary is at `address`, or kNone.
  uint16_t find(const RedisHost& address) const;

  std::vector<RedisClusterShard> shards_;  // at most 16384: a shard is reused once it has no slot
  std::vector<uint16_t> shard_of_;         // 16384 indexes into shards_, kNone: uncovered
};

}  // namespace streamshift
