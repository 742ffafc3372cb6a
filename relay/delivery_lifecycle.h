// One entry's way through the relay, from read to ack, and the only place
// its EntryStage changes (enter(): one function per arrow below).
//
//   read, scanned or claimed, and held (ORDERING=room: by RoomBudget, else set aside)
//      |
//    kRead ----------------------------------------+ deleted while pending: ack only, lost
//      | dedup on       | dedup off                | malformed: dead letter
//      v                |                          |
//   kChecking ----------|--------------------------+ marked: duplicate, ack only
//      | not marked     |                          |
//      v (or unknown)   v                          |
//    kQueued   its lane's turn (room_queues.h):    |
//      |       ORDERING=room: a room in order,     |
//      |       none: each event_id; CONCURRENCY    |
//      |       lanes at once                       |
//      | its turn ---------------------------------+ delivered here a moment ago: ack only
//      v                                           |
//   kDelivering -----------------------------------+ 2xx: ack and delivered mark;
//      |    ^                                      | other 4xx, MAX_DELIVERIES: dead letter
//      v    | due                                  v
//   kBackoff  5xx, 408, 429, no answer        kFinalizing --done--> gone
//             (keeps its slot; room:          |    ^
//              its room keeps only its head)  v    | due
//                                        failed
//                                         kFinalizeBackoff
//
// Released (gone from memory, left pending in Redis under this consumer):
// set aside by RoomBudget (from kRead, kChecking, or, with ORDERING=room,
// kQueued behind a failing head); when draining, kQueued and kBackoff,
// kChecking when its answer comes, kDelivering when the target is shut down;
// kFinalizing whose ack fails while closing.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/backoff.h"
#include "core/http_client.h"
#include "relay/dedup.h"
#include "relay/delivery_target.h"
#include "relay/finalizer.h"
#include "relay/held_entries.h"
#include "relay/relay_clock.h"
#include "relay/relay_metrics.h"
#include "relay/relay_settings.h"
#include "relay/room_budget.h"
#include "relay/room_queues.h"
#include "relay/stream_reader.h"

namespace streamshift {

class DeliveryLifecycle {
 public:
  struct Hooks {
    std::function<void()> left;        // an entry left memory: room to read; a drain may end
    std::function<void()> room_moved;  // a room's head finished: set-aside entries may return
  };

  DeliveryLifecycle(RelayClock& clock, DeliveryTarget& target, EntryFinalizer& finalizer,
                    const RelaySettings& settings, RelayMetrics& metrics, HeldEntries& held,
                    RoomBudget& budget, Dedup& dedup, Hooks hooks);

  /// Entries read, scanned or claimed (the reader's callback).
  void accept(StreamReader::Entries& entries, bool scanned);
  /// The finalizer's answer for `e`: finished in Redis, or failed.
  void on_finalized(RelayEntry* e, bool finished);

  /// Draining: nothing new starts; entries waiting for their room or for a
  /// retry are released.
  void drain();
  /// Closing: retries are dropped; an ack that fails releases its entry.
  void close();
  /// Nothing is under way but acks waiting to be retried.
  bool settled() const;
  /// Lanes (rooms, or entries without ordering) delivered in parallel from
  /// now on (STREAMSHIFT_RELAY_CONCURRENCY changed at runtime); raised,
  /// waiting ones start at once.
  void set_concurrency(size_t concurrency);

 private:
  static bool allowed(EntryStage from, EntryStage to);
  void enter(RelayEntry* e, EntryStage to);
  bool in_budget(const RelayEntry& e) const;

  void check(const std::vector<RelayEntry*>& entries);
  void queue(RelayEntry* e);
  void pump();
  void deliver(RelayEntry* e);
  void on_delivered(const std::string& key, UpstreamResponse& response);
  void back_off(RelayEntry* e);
  void finalize(RelayEntry* e, Finalize how);
  void dead_letter(RelayEntry* e, DeadLetterReason reason, std::string error);
  void drop_duplicate(RelayEntry* e);
  void set_aside(RelayEntry* e);
  void finish_in_room(RelayEntry* e);
  void release(RelayEntry* e);
  void forget(RelayEntry* e);

  void schedule(RelayEntry* e, uint64_t delay_ms);
  void arm_retry_timer();
  void on_retry_due();

  RelayClock& clock_;
  DeliveryTarget& target_;
  EntryFinalizer& finalizer_;
  const RelaySettings& settings_;
  RelayMetrics& metrics_;
  HeldEntries& held_;
  RoomBudget& budget_;
  Dedup& dedup_;
  Hooks hooks_;
  RoomQueues rooms_;
  RelayTimer& retry_timer_;
  JitterRandom random_;
  std::multimap<uint64_t, std::string> retries_;  // due time -> entry key
  bool draining_ = false;
  bool closing_ = false;
};

}  // namespace streamshift
