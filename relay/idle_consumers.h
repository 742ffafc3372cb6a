// Idle consumer clean-up: every min(STREAMSHIFT_RELAY_LAG_INTERVAL_MS, 60 s),
// XINFO CONSUMERS <stream> <group> on each physical stream, then
// XGROUP DELCONSUMER for every consumer that holds nothing pending and has
// been idle longer than STREAMSHIFT_CONSUMER_IDLE_DELETE_MS (0: never).
// Pod-named consumers of relays that are gone no longer pile up. This
// relay's own consumer is never deleted. Each deletion is counted
// (streamshift_relay_consumers_deleted_total) and logged.
//
// Idle time: `inactive` when Redis reports it (7.2+: since the consumer's
// last successful read or claim; -1 when it never had one), else `idle`.
// A consumer that gains a pending entry between the look-up and the
// DELCONSUMER would lose it from the pending list (XGROUP DELCONSUMER drops
// its pending entries): the window is one round trip, and a consumer idle
// for the threshold is not reading.
#pragma once

#include <hiredis/hiredis.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "relay/relay_clock.h"
#include "relay/relay_metrics.h"
#include "relay/relay_redis.h"
#include "relay/relay_settings.h"

namespace streamshift {

/// One row of XINFO CONSUMERS.
struct ConsumerInfo {
  std::string name;
  int64_t pending = 0;
  int64_t idle_ms = 0;
  int64_t inactive_ms = -1;  // -1: not reported (Redis < 7.2) or never active

  /// `inactive` when known, else `idle`.
  int64_t idle_for_ms() const { return inactive_ms >= 0 ? inactive_ms : idle_ms; }
};

/// The rows of an XINFO CONSUMERS reply (RESP2 flat maps); empty when it is
/// not an array.
std::vector<ConsumerInfo> parse_consumer_infos(const redisReply* reply);

/// The consumers to delete: nothing pending, idle longer than `threshold_ms`
/// (idle_for_ms()), never `self`. None when `threshold_ms` is 0.
std::vector<ConsumerInfo> idle_consumers_to_delete(const std::vector<ConsumerInfo>& consumers,
                                                   std::string_view self, uint64_t threshold_ms);

class IdleConsumers {
 public:
  /// The longest time between two clean-ups.
  static constexpr uint64_t kMaxIntervalMs = 60000;

  IdleConsumers(RelayRedis& redis, RelayClock& clock, const RelaySettings& settings,
                RelayMetrics& metrics);

  /// Starts the periodic clean-up (nothing when the threshold is 0).
  void start();
  /// Draining: no more periodic clean-ups.
  void stop() { timer_.stop(); }
  /// No more clean-ups at all.
  void close() { closed_ = true; }
  /// One clean-up of every stream now.
  void clean();

 private:
  void delete_idle(const std::string& stream, const RedisResult& r);

  RelayRedis& redis_;
  const RelaySettings& settings_;
  RelayMetrics& metrics_;
  RelayTimer& timer_;
  bool closed_ = false;
};

}  // namespace streamshift
