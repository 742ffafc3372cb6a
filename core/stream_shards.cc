// Shard names, the room's shard and the read groups; see stream_shards.h.
#include "core/stream_shards.h"

#include <map>
#include <utility>

#include "core/redis_key_slot.h"
#include "core/stable_hash.h"

namespace streamshift {

std::string shard_stream_name(std::string_view logical, int shards, int k) {
  std::string name(logical);
  if (shards <= 1) return name;
  name += ":{s";
  name += std::to_string(k);
  name += '}';
  return name;
}

int room_shard(std::string_view room_id, int shards) {
  if (shards <= 1) return 0;
  return static_cast<int>(room_hash(room_id) % static_cast<uint64_t>(shards));
}

int load_stream_shards(EnvReader& env) {
  return static_cast<int>(env.integer(
      "EVENT_TRANSPORT_STREAM_SHARDS", 1, 1, kMaxStreamShards,
      "physical streams per logical stream; a room's events stay in one (1: unsharded names)"));
}

void check_shardable(EnvReader& env, int shards, const std::vector<std::string>& logical) {
  if (shards <= 1) return;
  for (const std::string& name : logical) {
    if (name.find_first_of("{}") == std::string::npos) continue;
    env.reject("EVENT_TRANSPORT_STREAM_SHARDS", std::to_string(shards),
               "1 while the stream \"" + name +
                   "\" has '{' or '}' (its own hash tag would override the shard's): rename it");
  }
}

StreamShards::StreamShards(std::vector<std::string> logical, int shards)
    : shards_(shards < 1 ? 1 : shards), logical_(std::move(logical)) {
  physical_.reserve(logical_.size() * static_cast<size_t>(shards_));
  for (const std::string& l : logical_) {
    for (int k = 0; k < shards_; ++k) physical_.push_back(shard_stream_name(l, shards_, k));
  }
}

std::vector<std::vector<size_t>> StreamShards::read_groups(bool by_slot) const {
  // Keyed by (shard index, slot or 0): ordered, so groups come in shard order.
  std::map<std::pair<int, uint16_t>, std::vector<size_t>> groups;
  for (size_t i = 0; i < physical_.size(); ++i) {
    uint16_t slot = by_slot ? redis_key_slot(physical_[i]) : 0;
    groups[{shard_index(i), slot}].push_back(i);
  }
  std::vector<std::vector<size_t>> out;
  out.reserve(groups.size());
  for (auto& [key, members] : groups) out.push_back(std::move(members));
  return out;
}

}  // namespace streamshift
