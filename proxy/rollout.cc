// Transport decision; see rollout.h.
#include "proxy/rollout.h"

namespace streamshift {

int room_bucket(std::string_view room_id) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : room_id) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ULL;
  }
  return static_cast<int>(h % 100);
}

bool Rollout::use_redis(std::string_view room_id) {
  if (!settings_.use_redis_streams || settings_.redis_percentage <= 0) return false;
  if (settings_.redis_percentage >= 100) return true;
  int bucket = settings_.rollout_key == RolloutKey::kRoom ? room_bucket(room_id)
                                                          : static_cast<int>(random_.next() % 100);
  return bucket < settings_.redis_percentage;
}

}  // namespace streamshift
