// Ordering for the relay: entries of one lane are delivered in stream
// order, one at a time; different lanes run in parallel, at most
// `concurrency` at once. The lane is what STREAMSHIFT_RELAY_ORDERING says:
//   room  the entry's room in its stream (room_key()): per-room order
//   none  its event_id: entries start as slots free up, whatever their
//         room; only copies of one event still go one after the other, so
//         the later copy meets the delivered mark (dedup.h) and is dropped.
//         RoomBudget's per-room cap does not apply then (room_budget.h)
// Below, "room" means the lane.
//
//   push(e) --> room FIFO --(room idle, a slot free)--> next_ready() = e
//                                                        ... delivery ...
//                                    finish(e): the room's next entry, if any,
//                                    becomes ready; the slot is freed
//
// A room whose head is waiting to retry keeps its slot, so a failing target
// is not hammered by every room at once; with ordering room the relay then
// drops the entries queued behind it (drop_behind: they wait in Redis, see
// room_budget.h).
// The queues hold pointers; the relay owns the entries.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>

#include "relay/relay_entry.h"
#include "relay/relay_settings.h"

namespace streamshift {

class RoomQueues {
 public:
  RoomQueues(size_t concurrency, RelayOrdering ordering)
      : concurrency_(concurrency), ordering_(ordering) {}

  void push(RelayEntry* entry);
  /// The head of a room that is not delivering, when a slot is free; the
  /// room then counts as active until finish(). nullptr when none.
  RelayEntry* next_ready();
  /// Whether next_ready() would hand out an entry.
  bool startable() const { return active_ < concurrency_ && !ready_.empty(); }
  /// `entry`, an active room's head, is done (delivered, dead-lettered or
  /// given up): it leaves the queue and its room's next entry becomes ready.
  void finish(RelayEntry* entry);
  /// Drops every entry not yet started (on shutdown: they stay pending in
  /// Redis); calls `dropped` for each.
  template <typename Fn>
  void drop_waiting(Fn dropped);
  /// Drops the entries queued behind `head`, its room's head (a room whose
  /// delivery failed keeps only its head in memory); calls `dropped` for
  /// each, newest first.
  template <typename Fn>
  void drop_behind(RelayEntry* head, Fn dropped);

  /// A runtime change (issue 19): rooms started beyond a lowered cap finish;
  /// no new one starts until fewer are active.
  void set_concurrency(size_t concurrency) { concurrency_ = concurrency; }

  size_t active() const { return active_; }
  size_t queued() const { return queued_; }  // all entries, active heads included

 private:
  struct Room {
    std::deque<RelayEntry*> entries;
    bool active = false;
  };
  std::string lane(const RelayEntry& entry) const;

  size_t concurrency_;
  RelayOrdering ordering_;
  template <typename Fn>
  void drop_tail(Room& room, size_t keep, Fn& dropped);

  std::unordered_map<std::string, Room> rooms_;
  std::deque<Room*> ready_;  // rooms with entries, not active
  size_t active_ = 0;
  size_t queued_ = 0;
};

template <typename Fn>
void RoomQueues::drop_tail(Room& room, size_t keep, Fn& dropped) {
  while (room.entries.size() > keep) {
    RelayEntry* e = room.entries.back();
    room.entries.pop_back();
    e->in_room = false;
    --queued_;
    dropped(e);
  }
}

template <typename Fn>
void RoomQueues::drop_waiting(Fn dropped) {
  for (auto it = rooms_.begin(); it != rooms_.end();) {
    drop_tail(it->second, it->second.active ? 1 : 0, dropped);
    it = it->second.entries.empty() ? rooms_.erase(it) : std::next(it);
  }
  ready_.clear();
}

template <typename Fn>
void RoomQueues::drop_behind(RelayEntry* head, Fn dropped) {
  auto it = rooms_.find(lane(*head));
  if (it == rooms_.end() || it->second.entries.empty() || it->second.entries.front() != head)
    return;
  drop_tail(it->second, 1, dropped);
}

}  // namespace streamshift
