// How many entries of each room the relay keeps in memory, and which
// entries of a room it set aside: read from Redis, left pending there
// under this consumer, dropped from memory, to be read again from the
// consumer's own pending list when the room can move. One room whose
// target calls fail or hang then holds a few entries, not the relay's
// whole budget, and the other rooms keep being read and delivered.
// Only with STREAMSHIFT_RELAY_ORDERING=room, where the room is RoomQueues'
// lane: with none the relay consults no RoomBudget, a room's entries take
// CONCURRENCY slots as they come, and only the relay's total (HeldEntries,
// max_held()) bounds them; nothing is set aside.
//
// Per room (entries of one room in one stream), in stream id order:
//
//   ... delivered/acked | held (<= cap) | set aside: pending in Redis,  | later entries:
//                       |  in memory    |  not in memory: (after, last] | set aside too
//                                     after                           last
//
//   admit(id)         new (">"), own pending at start, claimed:
//                       hold when the room is not spilled and under its cap,
//                       or when id <= after (older than all set aside) and under the cap;
//                       else set aside, widening (after, last] to take id in
//   set_failing(true) the head failed a delivery: cap 1 (the relay sets aside
//                       every queued entry behind the head)
//   left()            a held entry acked, dead-lettered or released
//   next_scan(s)      a spilled room of stream s is at or under half its cap
//                       (and not failing): XREADGROUP .. STREAMS s <from>, from =
//                       the lowest `after` of such rooms: own pending entries > from
//   admit_scanned(id) in id order: an entry in (after, last] is next in line when
//                       the scan started at or below `after` and has set aside no
//                       entry of the room yet; held (after = id) while under the
//                       cap and no newer entry of the room is held, else the room
//                       waits for the next scan ("blocked")
//   scan_page_done    a room whose (after, last] the scan covered without finding
//                       anything left (taken over, trimmed) is no longer spilled;
//                       the scan goes on while a room can still take entries
//
// A newer entry held while older ones were set aside (it was waiting for its
// duplicate check when its room's head failed) is set aside in turn when it
// may not queue (may_queue()); until it has left, a scan hands back nothing
// of its room, or the older entries would queue behind it.
// An entry set aside at an id the running scan has already passed blocks its
// room for that scan, so a room never leaves the spilled state while one of
// its entries is still set aside. Set-aside entries stay pending under this
// consumer: the relay resets their idle time like that of held entries
// (XPENDING over set_aside_range(), XCLAIM .. JUSTID), so no other relay's
// XAUTOCLAIM takes them while this one lives, and no entry is delivered by
// two relays or ahead of an older entry of its room.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/stream_id.h"

namespace streamshift {

class RoomBudget {
 public:
  RoomBudget(size_t room_cap, size_t streams);

  /// An entry read new, from the own pending list at start, or claimed:
  /// true to hold it (counted until left()), false to set it aside.
  bool admit(const std::string& room, size_t stream, StreamId id);
  /// An entry returned by the running scan of `stream`, in id order.
  bool admit_scanned(const std::string& room, size_t stream, StreamId id);
  /// Whether a held entry that was waiting (for its duplicate check) may
  /// join its room's queue: false when an older entry of the room was set
  /// aside meanwhile; then set_aside() and left() it.
  bool may_queue(const std::string& room, StreamId id) const;
  /// A held entry is set aside after all; left() follows.
  void set_aside(const std::string& room, size_t stream, StreamId id);
  /// A held entry left memory.
  void left(const std::string& room, StreamId id);
  /// The room's head failed a delivery (its cap drops to 1), or finished.
  void set_failing(const std::string& room, bool failing);

  /// Starts a scan of `stream` when a spilled room wants one: the id to read
  /// the own pending list after. nullopt: none wanted, or one is running.
  std::optional<StreamId> next_scan(size_t stream);
  /// A page of the running scan ended at `last` (nullopt: the own pending
  /// list ended). True when the scan goes on after `last`.
  bool scan_page_done(size_t stream, std::optional<StreamId> last);
  /// The running scan failed; it starts again from next_scan().
  void scan_failed(size_t stream);
  /// Makes next_scan() look again at every spilled room (a periodic check).
  void want_scans();
  bool scanning(size_t stream) const { return scans_[stream].active; }
  /// The lowest `after` and highest `last` over the stream's spilled rooms.
  std::optional<std::pair<StreamId, StreamId>> set_aside_range(size_t stream) const;

  bool spilled(const std::string& room) const;
  size_t held(const std::string& room) const;

 private:
  struct Room {
    size_t stream = 0;
    std::vector<StreamId> held;  // the ids held, ascending
    bool failing = false;
    bool spilled = false;
    StreamId after, last;       // set-aside entries lie in (after, last]
    uint64_t blocked_scan = 0;  // the scan that must not advance this room
  };
  struct Scan {
    bool active = false;
    bool wanted = false;  // a room may want one: check at next_scan()
    uint64_t generation = 0;
    StreamId start, position;
  };

  size_t cap(const Room& r) const { return r.failing ? 1 : room_cap_; }
  static void hold(Room& r, StreamId id);
  bool wants_scan(const Room& r) const;
  bool covered(const Room& r, const Scan& s) const;
  Room& room(const std::string& key, size_t stream);
  void widen(const std::string& key, Room& r, StreamId id);
  void unspill(const std::string& key, Room& r);
  void maybe_erase(const std::string& key);

  size_t room_cap_;
  std::unordered_map<std::string, Room> rooms_;
  std::vector<std::unordered_set<std::string>> spilled_;  // per stream: room keys
  std::vector<Scan> scans_;
};

}  // namespace streamshift
