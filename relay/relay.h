// The relay: consumes the event streams in a consumer group and replays
// each entry as the app's original HTTP call to the SignalR internal API,
// at least once, with nothing lost. This class wires its parts together
// and holds the drain and shutdown sequence.
//
//   ConsumerGroups   XGROUP CREATE .. MKSTREAM (again on NOGROUP)
//        |
//   StreamReader     XREADGROUP 0 (own pending) .. then > BLOCK;     PendingClaims  XAUTOCLAIM
//        |           set-aside entries again (XREADGROUP <id>)        (idle > CLAIM_IDLE_MS), and
//        |                                                            the idle refresh (XCLAIM)
//        v entries, by callback                                            |
//   DeliveryLifecycle  RoomBudget: hold or set aside; Dedup (MGET) <-------+
//        |             RoomQueues: per room FIFO, CONCURRENCY rooms at once
//        |             DeliveryTarget: replay; retries with backoff up to MAX_DELIVERIES
//        v
//   Finalizer        EVAL: SET marks EX ttl; XACK ids (one per stream per loop turn);
//                    XADD dead letter, then XACK (never acked unwritten)
//
//   LagGauges        XLEN, XINFO GROUPS every LAG_INTERVAL_MS
//   IdleConsumers    XINFO CONSUMERS, XGROUP DELCONSUMER (idle, nothing pending)
//
// Reads, scans and claims ask for no more entries than the held budget
// (RelaySettings::max_held) has left, and one room holds at most
// RelaySettings::kRoomMaxHeld of them, so a room whose target calls fail
// or hang never stops the others (room_budget.h). Held and set-aside
// entries are re-claimed by this relay before they look idle to the
// others, so no other relay takes a room over while this one lives.
// Everything runs on one loop; the parts reach Redis, time and the target
// through small interfaces (RelayRedis, RelayClock, DeliveryTarget), which
// the unit tests fake.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "relay/consumer_groups.h"
#include "relay/dedup.h"
#include "relay/delivery_lifecycle.h"
#include "relay/delivery_target.h"
#include "relay/finalizer.h"
#include "relay/held_entries.h"
#include "relay/idle_consumers.h"
#include "relay/lag_gauges.h"
#include "relay/pending_claims.h"
#include "relay/relay_clock.h"
#include "relay/relay_metrics.h"
#include "relay/relay_redis.h"
#include "relay/relay_settings.h"
#include "relay/room_budget.h"
#include "relay/stream_reader.h"

namespace streamshift {

/// What the relay talks to.
struct RelayIo {
  RelayRedis& redis;
  RelayClock& clock;
  DeliveryTarget& target;
};

class Relay {
 public:
  /// Over Redis, libuv and the target of `settings`.
  Relay(uv_loop_t* loop, const RelaySettings& settings, RelayMetrics& metrics);
  /// Over the given ones (tests).
  Relay(RelayIo io, const RelaySettings& settings, RelayMetrics& metrics);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  /// Connects to Redis; reading starts once the groups exist.
  void start();

  /// SIGTERM: stop reading and claiming, let deliveries in flight finish
  /// (and their acks) within the drain timeout, leave everything else
  /// pending in Redis (never acked), then close every handle. `on_stopped`
  /// runs once all are closed.
  void drain(std::function<void()> on_stopped);

  /// The runtime values in `settings` changed (issue 19): retry delays and
  /// the dedup TTL are read at each use; the concurrency is applied here.
  void settings_changed() { lifecycle_.set_concurrency(settings_.concurrency); }

  /// Redis connected, groups in place, not draining.
  bool ready() const;
  /// Why not ready, for /readyz; empty when ready.
  std::string not_ready_reason() const;

 private:
  //   kRunning --drain()--> kDraining --nothing under way, or the drain timeout--> kClosing
  //                                                 every handle closed: on_stopped
  enum class State { kRunning, kDraining, kClosing };
  struct UvIo;

  Relay(std::unique_ptr<UvIo> owned, const RelayIo* io, const RelaySettings& settings,
        RelayMetrics& metrics);
  void on_groups(ConsumerGroups::Result result);
  void on_entries(StreamReader::Entries& entries, bool scanned);
  void entry_left();
  void maybe_finish_drain();
  void close_everything();
  void closed_one();

  std::unique_ptr<UvIo> owned_io_;  // when built over a loop
  RelayIo io_;
  const RelaySettings& settings_;
  RelayMetrics& metrics_;
  HeldEntries held_;
  RoomBudget budget_;
  Dedup dedup_;
  ConsumerGroups groups_;
  StreamReader reader_;
  PendingClaims claims_;
  LagGauges lag_;
  IdleConsumers idle_consumers_;
  Finalizer finalizer_;
  DeliveryLifecycle lifecycle_;
  RelayTimer& drain_timer_;

  State state_ = State::kRunning;
  bool draining_started_ = false;  // drain() has released what waits: it may finish
  int closing_ = 0;                // closes under way (the reader's, then the others)
  std::function<void()> on_stopped_;
};

}  // namespace streamshift
