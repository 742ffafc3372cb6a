// Per-room FIFOs with a concurrency cap; see room_queues.h.
#include "relay/room_queues.h"

namespace streamshift {

std::string RoomQueues::lane(const RelayEntry& entry) const {
  if (ordering_ == RelayOrdering::kRoom) return entry.room_key();
  return std::string(entry.event.event_id);
}

void RoomQueues::push(RelayEntry* entry) {
  Room& room = rooms_[lane(*entry)];
  room.entries.push_back(entry);
  entry->in_room = true;
  ++queued_;
  if (room.entries.size() == 1 && !room.active) ready_.push_back(&room);
}

RelayEntry* RoomQueues::next_ready() {
  if (active_ >= concurrency_ || ready_.empty()) return nullptr;
  Room* room = ready_.front();
  ready_.pop_front();
  room->active = true;
  ++active_;
  return room->entries.front();
}

void RoomQueues::finish(RelayEntry* entry) {
  auto it = rooms_.find(lane(*entry));
  if (it == rooms_.end() || !it->second.active || it->second.entries.empty() ||
      it->second.entries.front() != entry) {
    return;  // not an active head: nothing to release
  }
  Room& room = it->second;
  room.entries.pop_front();
  room.active = false;
  entry->in_room = false;
  --active_;
  --queued_;
  if (room.entries.empty())
    rooms_.erase(it);
  else
    ready_.push_back(&room);
}

}  // namespace streamshift
