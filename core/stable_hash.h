// The stable hash of a room: FNV-1a over 64 bits (prime 1099511628211) of
// the bytes of room_id, from the offset basis 1469598103934665603. That
// basis is the one the rollout shipped with, one digit shorter than the
// published FNV offset basis (14695981039346656037); it stays, since
// changing it would move rooms between transports mid-rollout. The rollout's
// bucket (proxy/rollout.h) and the stream shard (core/stream_shards.h) are
// both taken from it, so a room never splits across transports or shards.
#pragma once

#include <cstdint>
#include <string_view>

namespace streamshift {

inline constexpr uint64_t kRoomHashOffsetBasis = 1469598103934665603ULL;
inline constexpr uint64_t kRoomHashPrime = 1099511628211ULL;

constexpr uint64_t room_hash(std::string_view bytes) {
  uint64_t h = kRoomHashOffsetBasis;
  for (char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= kRoomHashPrime;
  }
  return h;
}

}  // namespace streamshift
