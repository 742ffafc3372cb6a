// Sharded streams: a logical stream (events:chat) is split into
// EVENT_TRANSPORT_STREAM_SHARDS physical streams so that rooms spread over
// streams (and, on Redis Cluster, over primaries) while each room's events
// stay in one stream, in order.
//
//   N = 1:  the logical name itself ("events:chat"), as before sharding
//   N > 1:  shard k (0..N-1) is "<logical>:{s<k>}" ("events:chat:{s2}")
//
// The hash tag {s<k>} puts shard k of every logical stream in one cluster
// slot, so one blocking XREADGROUP can cover them. A room goes to shard
// room_hash(room_id) % N (core/stable_hash.h), the rollout's hash. Every
// event has a room (intake refuses one without), so no other rule exists.
// Logical names holding '{' or '}' cannot be sharded: their own hash tag
// would win over ours.
//
// The physical streams are laid out logical-major: shard k of logical
// stream i is physical index i * N + k.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env_config.h"

namespace streamshift {

inline constexpr int kMaxStreamShards = 64;

/// Shard `k` of `logical` split in `shards`.
std::string shard_stream_name(std::string_view logical, int shards, int k);

/// The shard of a room: room_hash(room_id) % shards.
int room_shard(std::string_view room_id, int shards);

/// EVENT_TRANSPORT_STREAM_SHARDS, 1-64, default 1.
int load_stream_shards(EnvReader& env);

/// Refuses (against EVENT_TRANSPORT_STREAM_SHARDS) every name of `logical`
/// holding '{' or '}' when `shards` is above 1.
void check_shardable(EnvReader& env, int shards, const std::vector<std::string>& logical);

class StreamShards {
 public:
  StreamShards() = default;
  StreamShards(std::vector<std::string> logical, int shards);

  int count() const { return shards_; }
  const std::vector<std::string>& logical() const { return logical_; }
  /// Every physical stream, logical-major.
  const std::vector<std::string>& physical() const { return physical_; }
  size_t logical_index(size_t physical) const { return physical / static_cast<size_t>(shards_); }
  int shard_index(size_t physical) const {
    return static_cast<int>(physical % static_cast<size_t>(shards_));
  }

  /// The physical streams one blocking read covers, each group in physical
  /// order: those of one shard index; with `by_slot` (Redis Cluster, where
  /// the keys of one command must share a slot) split further by slot, as
  /// the logical streams of N = 1 hash apart.
  std::vector<std::vector<size_t>> read_groups(bool by_slot) const;

 private:
  int shards_ = 1;
  std::vector<std::string> logical_;
  std::vector<std::string> physical_;
};

}  // namespace streamshift
