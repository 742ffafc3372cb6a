// Idle consumer clean-up: every min(STREAMSHIFT_RELAY_LAG_INTERVAL_MS, 60 s),
// XINFO CONSUMERS <stream> <group> on each physical stream; then, for every
// consumer that holds nothing pending and has been idle longer than
// STREAMSHIFT_CONSUMER_IDLE_DELETE_MS (0: never), EVAL kDeleteIdleConsumerScript:
//
//   XPENDING <stream> <group> - + 1 <consumer>   not empty: -1, kept
//   XGROUP DELCONSUMER <stream> <group> <consumer>
//
// The check and the deletion are one script on the stream's key (atomic, and
// single-key so Redis Cluster routes it): a consumer that gained a pending
// entry after the XINFO (another relay's XREADGROUP) is kept, never deleted
// with its entries. Pod-named consumers of relays that are gone no longer pile
// up. This relay's own consumer is never deleted. Each deletion is counted
// (streamshift_relay_consumers_deleted_total) and logged; a deletion that
// dropped pending entries anyway (impossible with the script) is logged at
// error and counted (streamshift_relay_consumer_pending_dropped_total).
//
// Idle time: `idle`. On Redis 7.2+ it is the time since the consumer's last
// attempted read (a live relay polling a quiet stream stays fresh; `inactive`,
// since the last successful read, is not a liveness measure and is ignored).
// On Redis 7.0 `idle` is the time since the last successful read: a live
// relay on a stream quiet for longer than the threshold may see its consumer
// deleted. That is harmless: it held nothing pending (checked atomically), and
// its next XREADGROUP recreates it.
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
  int64_t idle_ms = 0;  // `idle` (see above for what it measures)
};

/// KEYS[1] the stream, ARGV[1] the group, ARGV[2] the consumer. Returns -1
/// (kept) when the consumer holds a pending entry, else DELCONSUMER's reply
/// (the number of pending entries dropped: 0).
extern const char* const kDeleteIdleConsumerScript;

/// The rows of an XINFO CONSUMERS reply (RESP2 flat maps); empty when it is
/// not an array.
std::vector<ConsumerInfo> parse_consumer_infos(const redisReply* reply);

/// The consumers to delete: nothing pending, idle longer than `threshold_ms`,
/// never `self`. None when `threshold_ms` is 0.
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
  void deleted(const std::string& stream, const std::string& name, int64_t idle_ms,
               const RedisResult& d);

  RelayRedis& redis_;
  const RelaySettings& settings_;
  RelayMetrics& metrics_;
  RelayTimer& timer_;
  bool closed_ = false;
};

}  // namespace streamshift
