// Turns in a replay's page; see replay_turns.h.
#include "relay/replay_turns.h"

namespace streamshift {

void ReplayTurns::add(RelayEntry* e) {
  auto [it, fresh] = waiting_.try_emplace(e->event.room_id);
  if (fresh) ready_rooms_.push_back(e->event.room_id);
  it->second.push_back(e);
}

void ReplayTurns::release_due(uint64_t now) {
  while (!retries_.empty() && retries_.begin()->first <= now) {
    due_.push_back(retries_.begin()->second);
    retries_.erase(retries_.begin());
  }
}

RelayEntry* ReplayTurns::next() {
  RelayEntry* e = nullptr;
  if (!due_.empty()) {
    e = due_.front();
    due_.pop_front();
  } else if (!ready_rooms_.empty()) {
    std::deque<RelayEntry*>& room = waiting_[ready_rooms_.front()];
    ready_rooms_.pop_front();
    e = room.front();
    room.pop_front();
  }
  return e;
}

void ReplayTurns::finished(const RelayEntry* e) {
  auto it = waiting_.find(e->event.room_id);
  if (it != waiting_.end() && !it->second.empty()) ready_rooms_.push_back(it->first);
}

std::optional<uint64_t> ReplayTurns::next_due() const {
  if (retries_.empty()) return std::nullopt;
  return retries_.begin()->first;
}

void ReplayTurns::clear() {
  waiting_.clear();
  ready_rooms_.clear();
  retries_.clear();
  due_.clear();
}

}  // namespace streamshift
