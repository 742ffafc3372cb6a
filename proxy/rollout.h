// The per-event transport decision: EVENT_TRANSPORT_USE_REDIS_STREAMS,
// EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE and EVENT_TRANSPORT_ROLLOUT_KEY.
//
// With the room key, a stable hash (FNV-1a, the same in every replica) of
// room_id picks the bucket 0-99, so a room never splits across transports
// and its events keep their order during a canary; raising the percentage
// only moves rooms from HTTP to Redis, never back.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/ids.h"
#include "proxy/transport_settings.h"

namespace streamshift {

/// The bucket 0-99 of a room.
int room_bucket(std::string_view room_id);

class Rollout {
 public:
  explicit Rollout(const TransportSettings& settings) : settings_(&settings) {}
  /// The settings in force from now on (a runtime change, issue 19): a room's bucket is
  /// fixed, so raising the percentage only adds rooms and lowering it only takes rooms back.
  void use(const TransportSettings& settings) { settings_ = &settings; }
  /// True when this event goes to Redis Streams.
  bool use_redis(std::string_view room_id);

 private:
  const TransportSettings* settings_;
  IdGenerator random_;
};

}  // namespace streamshift
