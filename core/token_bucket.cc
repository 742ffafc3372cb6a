// The token bucket; see token_bucket.h.
#include "core/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace streamshift {

void TokenBucket::refill(uint64_t now_ms) {
  if (now_ms <= last_ms_) return;
  tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ms - last_ms_) * rate_ / 1000.0);
  last_ms_ = now_ms;
}

bool TokenBucket::take(uint64_t now_ms) {
  refill(now_ms);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

uint64_t TokenBucket::wait_ms(uint64_t now_ms) {
  refill(now_ms);
  if (tokens_ >= 1.0) return 0;
  return static_cast<uint64_t>(std::ceil((1.0 - tokens_) * 1000.0 / rate_));
}

}  // namespace streamshift
