// A token bucket over an injected clock: at most `rate` starts per second
// on average, `burst` at once. Pure logic; the owner waits with a libuv
// timer for wait_ms() (no sleeps), so it is unit-tested without one.
//
// Bound: in any window of T ms, at most burst + rate * T / 1000 takes succeed.
#pragma once

#include <cstdint>

namespace streamshift {

class TokenBucket {
 public:
  /// `rate` > 0 tokens per second; `burst` >= 1 tokens at most, and at
  /// first. `now_ms` is the clock's reading at creation.
  TokenBucket(double rate, double burst, uint64_t now_ms)
      : rate_(rate), burst_(burst), tokens_(burst), last_ms_(now_ms) {}

  /// Takes one token if there is one at `now_ms`.
  bool take(uint64_t now_ms);
  /// Milliseconds from `now_ms` until a token is there (0: now), rounded up.
  uint64_t wait_ms(uint64_t now_ms);

 private:
  void refill(uint64_t now_ms);

  double rate_;
  double burst_;
  double tokens_;
  uint64_t last_ms_;
};

}  // namespace streamshift
