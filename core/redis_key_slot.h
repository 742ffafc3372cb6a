// Which Redis Cluster hash slot a key lives in (the cluster specification's
// "Keys distribution model"): CRC16-XMODEM of the key modulo 16384, or of
// its hash tag: the bytes between the first '{' and the first '}' after
// it, when there is at least one. "{user1000}.following" and
// "{user1000}.followers" share a slot; "{}x", "a{b" and "a}b{" hash whole.
#pragma once

#include <cstdint>
#include <string_view>

namespace streamshift {

inline constexpr uint16_t kRedisClusterSlots = 16384;

/// CRC16, CCITT polynomial 0x1021, initial value 0, no reflection (XMODEM):
/// crc16("123456789") is 0x31C3.
uint16_t redis_crc16(std::string_view bytes);

/// The part of `key` that is hashed: its hash tag, or the whole key.
std::string_view redis_hash_tag(std::string_view key);

/// The slot of `key`, 0 to 16383.
uint16_t redis_key_slot(std::string_view key);

}  // namespace streamshift
