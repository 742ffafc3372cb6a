// event_consumer_lag and event_queue_depth, every LAG_INTERVAL_MS and as
// soon as the groups exist: XLEN and XINFO GROUPS per physical stream (the
// reply read by core/stream_lag.h), reported per logical stream: the sum
// over its shards, set once every shard has answered. A series whose
// look-up failed on any shard, or whose lag Redis cannot tell (nil), is
// removed, never left at its last value: a frozen lag keeps an alert firing
// after the backlog is gone.
#pragma once

#include "relay/relay_clock.h"
#include "relay/relay_metrics.h"
#include "relay/relay_redis.h"
#include "relay/relay_settings.h"

namespace streamshift {

class LagGauges {
 public:
  LagGauges(RelayRedis& redis, RelayClock& clock, const RelaySettings& settings,
            RelayMetrics& metrics);

  /// Starts the periodic refresh.
  void start();
  /// Draining: no more periodic refreshes.
  void stop() { timer_.stop(); }
  /// No more refreshes at all.
  void close() { closed_ = true; }
  /// One look-up of every stream now.
  void refresh();

 private:
  RelayRedis& redis_;
  const RelaySettings& settings_;
  RelayMetrics& metrics_;
  RelayTimer& timer_;
  bool closed_ = false;
};

}  // namespace streamshift
