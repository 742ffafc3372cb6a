// Whose turn it is in a replay's page: entries of one room one at a time,
// in stream order; rooms take turns in order of first appearance, then in
// the order they finished; an entry backing off keeps its room's turn and
// comes first once due. Pure: the clock is passed in, the owner starts
// what next() hands out (within its slots and rate) and reports back.
//
//   add (stream order) -> waiting in its room -> next() -> in delivery
//     -> finished(e): the room's next entry may start
//     -> retry_at(e, due): due(now) -> next() hands it out first
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "relay/relay_entry.h"

namespace streamshift {

class ReplayTurns {
 public:
  /// `e` (kept alive by the caller until finished) joins its room's queue.
  void add(RelayEntry* e);
  /// Moves retries due at `now` ahead of every room.
  void release_due(uint64_t now);
  /// Whether next() would hand out an entry.
  bool startable() const { return !due_.empty() || !ready_rooms_.empty(); }
  /// The next entry to deliver (a due retry first), or nullptr.
  RelayEntry* next();
  /// `e` is done (delivered or failed): its room's next entry may start.
  void finished(const RelayEntry* e);
  /// `e` failed and is tried again at `due`; its room waits for it.
  void retry_at(RelayEntry* e, uint64_t due) { retries_.emplace(due, e); }
  /// When the earliest retry is due.
  std::optional<uint64_t> next_due() const;
  void clear();

 private:
  std::unordered_map<std::string_view, std::deque<RelayEntry*>> waiting_;  // per room_id
  std::deque<std::string_view> ready_rooms_;      // none of theirs started, one waiting
  std::multimap<uint64_t, RelayEntry*> retries_;  // due time -> entry backing off
  std::deque<RelayEntry*> due_;                   // retries due, to start first
};

}  // namespace streamshift
