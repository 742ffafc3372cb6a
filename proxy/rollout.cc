// Transport decision; see rollout.h.
#include "proxy/rollout.h"

#include "core/stable_hash.h"

namespace streamshift {

int room_bucket(std::string_view room_id) {
  return static_cast<int>(room_hash(room_id) % 100);
}

bool Rollout::use_redis(std::string_view room_id) {
  if (!settings_.use_redis_streams || settings_.redis_percentage <= 0) return false;
  if (settings_.redis_percentage >= 100) return true;
  int bucket = settings_.rollout_key == RolloutKey::kRoom ? room_bucket(room_id)
                                                          : static_cast<int>(random_.next() % 100);
  return bucket < settings_.redis_percentage;
}

}  // namespace streamshift
