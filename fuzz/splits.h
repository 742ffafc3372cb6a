// Cuts a byte stream into the pieces a socket might deliver, chosen by one
// input byte, so a target sees the same bytes at every possible boundary.
#pragma once

#include <cstddef>
#include <cstdint>

namespace streamshift::fuzz {

class Splitter {
 public:
  /// 0: everything at once. Otherwise pieces of 1 to 2^(seed % 8) bytes
  /// (seed % 8 == 0: one byte at a time), sizes drawn from a PRNG seeded by
  /// `seed`; after kMaxPieces pieces the rest comes at once, which bounds the
  /// work of targets that rescan their pending bytes on every read.
  explicit Splitter(uint8_t seed) : seed_(seed), state_(0x9e3779b9u ^ (seed * 0x85ebca6bu)) {}

  size_t next(size_t remaining) {
    if (seed_ == 0 || ++pieces_ > kMaxPieces) return remaining;
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    size_t cap = size_t{1} << (seed_ % 8);
    size_t n = 1 + state_ % cap;
    return n < remaining ? n : remaining;
  }

 private:
  static constexpr size_t kMaxPieces = 256;
  uint8_t seed_;
  uint32_t state_;
  size_t pieces_ = 0;
};

}  // namespace streamshift::fuzz
