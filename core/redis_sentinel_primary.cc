// The locator's view of the primary; see redis_sentinel_primary.h.
#include "core/redis_sentinel_primary.h"

namespace streamshift {

RedisSentinelPrimary::Answer RedisSentinelPrimary::answered(uint64_t token,
                                                            const RedisHost& named) {
  if (token != generation_) return Answer::kStale;
  bool moved = !host_.host.empty() && !(named == host_);
  host_ = named;
  return moved ? Answer::kMoved : Answer::kTaken;
}

bool RedisSentinelPrimary::switched(const RedisHost& next) {
  ++generation_;
  if (next == host_) return false;
  host_ = next;
  return true;
}

}  // namespace streamshift
