// Turns in a replay's page; see replay_turns.h.
#include "relay/replay_turns.h"

namespace streamshift {

void ReplayTurns::release_due(uint64_t now) {
  while (!retries_.empty() && retries_.begin()->first <= now) {
    due_.push_back(retries_.begin()->second);
    retries_.erase(retries_.begin());
  }
}

RelayEntry* ReplayTurns::next() {
  if (due_.empty()) return lanes_.next_ready();
  RelayEntry* e = due_.front();
  due_.pop_front();
  return e;
}

std::optional<uint64_t> ReplayTurns::next_due() const {
  if (retries_.empty()) return std::nullopt;
  return retries_.begin()->first;
}

void ReplayTurns::clear() {
  lanes_ = RoomQueues(concurrency_, ordering_);
  retries_.clear();
  due_.clear();
}

}  // namespace streamshift
