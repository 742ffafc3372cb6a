// The process-wide view of the Redis primary; see redis_primary_status.h.
#include "core/redis_primary_status.h"

#include <algorithm>
#include <iterator>

namespace streamshift {

void RedisPrimaryStatus::watching() {
  std::lock_guard lock(mutex_);
  if (watching_) return;
  watching_ = true;
  if (ready_ <= 0) without_since_ = clock_();
}

void RedisPrimaryStatus::primary_at(const std::string& address) {
  std::lock_guard lock(mutex_);
  if (address == primary_) return;
  if (!primary_.empty()) ++failovers_;
  primary_ = address;
}

void RedisPrimaryStatus::ready_change(int delta) {
  std::lock_guard lock(mutex_);
  bool had = ready_ > 0;
  ready_ += delta;
  if (had && ready_ <= 0) without_since_ = clock_();
}

void RedisPrimaryStatus::cluster_event(RedisClusterEvent event) {
  std::lock_guard lock(mutex_);
  ++cluster_events_[static_cast<size_t>(event)];
}

RedisPrimaryStatus::View RedisPrimaryStatus::view() const {
  std::lock_guard lock(mutex_);
  View v;
  v.primary = primary_;
  v.failovers = failovers_;
  std::copy(std::begin(cluster_events_), std::end(cluster_events_), v.cluster_events);
  if (watching_ && ready_ <= 0) {
    v.seconds_without_primary = std::chrono::duration<double>(clock_() - without_since_).count();
  }
  return v;
}

}  // namespace streamshift
