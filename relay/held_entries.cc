// The relay's held entries and its read budget; see held_entries.h.
#include "relay/held_entries.h"

#include <algorithm>

namespace streamshift {

std::string HeldEntries::key_of(const RelayEntry& e) {
  std::string key = std::to_string(e.stream_index);
  key += '/';
  key += e.id;
  return key;
}

RelayEntry* HeldEntries::find(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : it->second.get();
}

RelayEntry* HeldEntries::add(std::unique_ptr<RelayEntry> e) {
  RelayEntry* raw = e.get();
  entries_.emplace(key_of(*raw), std::move(e));
  return raw;
}

void HeldEntries::remove(const RelayEntry& e) {
  entries_.erase(key_of(e));
}

size_t HeldEntries::read_budget() const {
  size_t used = entries_.size() + reserved_;
  return used >= max_held_ ? 0 : std::min(read_count_, max_held_ - used);
}

}  // namespace streamshift
