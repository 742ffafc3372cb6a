// De-duplication by event_id, off when STREAMSHIFT_DEDUP_TTL_S is 0:
//  - a delivered mark per event_id in Redis, <DEDUP_PREFIX><event_id>, set
//    (EX DEDUP_TTL_S) with the ack of its delivery (finalizer.h), read with
//    one MGET per batch before delivery. Sharded (or on a cluster) the mark
//    carries its stream's hash tag, <DEDUP_PREFIX>{<tag>}:<event_id>
//    ("streamshift:delivered:{s2}:<event_id>"), so the ack script's keys
//    share one slot; a room's retried event stays in its shard, so its mark
//    is found there. The MGET is then one per tag;
//  - the last kRecentlyDelivered event_ids this relay delivered, to drop a
//    second copy read before the first one's mark reached Redis.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "relay/relay_entry.h"
#include "relay/relay_redis.h"
#include "relay/relay_settings.h"

namespace streamshift {

/// The delivered mark of `event_id` read from the physical stream named
/// `stream` (also what `streamshift replay --skip-delivered` looks up).
std::string delivered_mark_key(const RelaySettings& settings, std::string_view stream,
                               std::string_view event_id);

class Dedup {
 public:
  static constexpr size_t kRecentlyDelivered = 4096;

  Dedup(RelayRedis& redis, const RelaySettings& settings) : redis_(redis), settings_(settings) {}

  bool enabled() const { return settings_.dedup_ttl_s > 0; }
  /// The mark of `event_id` read from physical stream `stream`.
  std::string mark_key(size_t stream, std::string_view event_id) const;
  /// One MGET of the marks of `entries`; `done(marked)` with marked[i] true
  /// when entry i was delivered already. When Redis fails, all false: a
  /// duplicate beats a loss. The answer comes in call order (one pipelined
  /// connection), so rooms keep stream order.
  void check(const std::vector<RelayEntry*>& entries,
             std::function<void(const std::vector<bool>& marked)> done);
  /// `event_id` was just delivered (remembered at once, before its mark
  /// reaches Redis).
  void remember(std::string_view event_id);
  bool recently_delivered(std::string_view event_id) const;

 private:
  RelayRedis& redis_;
  const RelaySettings& settings_;
  std::unordered_set<std::string> recent_;
  std::deque<std::string> recent_order_;
};

}  // namespace streamshift
