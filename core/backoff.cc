// Backoff delays and their random source; see backoff.h.
#include "core/backoff.h"

#include <uv.h>

#include <algorithm>

namespace streamshift {

JitterRandom JitterRandom::seeded(uint64_t salt) {
  return JitterRandom(uv_hrtime() ^ (salt * 0x9E3779B97F4A7C15ull));
}

uint64_t JitterRandom::next() {
  state_ ^= state_ << 13;
  state_ ^= state_ >> 7;
  state_ ^= state_ << 17;
  return state_;
}

uint64_t Backoff::delay_ms(uint32_t attempt, uint64_t random) const {
  uint64_t d = initial_ms;
  for (uint32_t i = 1; i < attempt && d < max_ms; ++i) d *= 2;
  d = std::min(d, max_ms);
  uint64_t half = d / 2;
  return half + random % (d - half + 1);
}

}  // namespace streamshift
