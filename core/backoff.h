// Exponential backoff with jitter, and the cheap random source behind it.
// One policy for every retry in both programs: Redis reconnects, the relay's
// read and group retries, and delivery retries.
#pragma once

#include <cstdint>

namespace streamshift {

/// xorshift64: a few instructions per value, no lock, no system call. Not for
/// secrets; one per loop or per owner.
class JitterRandom {
 public:
  /// Seeded from the clock and `salt` (an address, say), never zero.
  static JitterRandom seeded(uint64_t salt);
  explicit JitterRandom(uint64_t seed) : state_(seed == 0 ? 1 : seed) {}
  uint64_t next();

 private:
  uint64_t state_;
};

struct Backoff {
  uint64_t initial_ms;
  uint64_t max_ms;

  /// The delay before retry number `attempt` (1 for the first retry):
  /// initial_ms doubled per attempt, capped at max_ms, then drawn uniformly
  /// from its upper half, so many clients failing at once spread out.
  uint64_t delay_ms(uint32_t attempt, uint64_t random) const;
  uint64_t delay_ms(uint32_t attempt, JitterRandom& random) const {
    return delay_ms(attempt, random.next());
  }
};

}  // namespace streamshift
