// Whose turn it is in a replay's page: the relay's own lanes (RoomQueues,
// room_queues.h, by STREAMSHIFT_RELAY_ORDERING: a room's entries one at a
// time in stream order with `room`, entries in parallel with `none`), at
// most `concurrency` lanes at once, plus the replay's retries: an entry
// backing off keeps its lane's slot, as in the relay, and comes first once
// due. Pure: the clock is passed in, the owner starts what next() hands out
// (within its rate) and reports back.
//
//   add (stream order) -> queued in its lane -> next() -> in delivery
//     -> finished(e): the lane's next entry may start
//     -> retry_at(e, due): due(now) -> next() hands it out first
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>

#include "relay/relay_entry.h"
#include "relay/relay_settings.h"
#include "relay/room_queues.h"

namespace streamshift {

class ReplayTurns {
 public:
  ReplayTurns(size_t concurrency, RelayOrdering ordering)
      : concurrency_(concurrency), ordering_(ordering), lanes_(concurrency, ordering) {}

  /// `e` (kept alive by the caller until finished) joins its lane's queue.
  void add(RelayEntry* e) { lanes_.push(e); }
  /// Moves retries due at `now` ahead of every lane.
  void release_due(uint64_t now);
  /// Whether next() would hand out an entry.
  bool startable() const { return !due_.empty() || lanes_.startable(); }
  /// The next entry to deliver (a due retry first), or nullptr.
  RelayEntry* next();
  /// `e` is done (delivered or failed): its lane's next entry may start.
  void finished(RelayEntry* e) { lanes_.finish(e); }
  /// `e` failed and is tried again at `due`; its lane waits for it.
  void retry_at(RelayEntry* e, uint64_t due) { retries_.emplace(due, e); }
  /// When the earliest retry is due.
  std::optional<uint64_t> next_due() const;
  void clear();

 private:
  size_t concurrency_;
  RelayOrdering ordering_;
  RoomQueues lanes_;
  std::multimap<uint64_t, RelayEntry*> retries_;  // due time -> entry backing off
  std::deque<RelayEntry*> due_;                   // retries due, to start first
};

}  // namespace streamshift
