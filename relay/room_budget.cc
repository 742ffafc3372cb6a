// Per-room memory budget and set-aside entries; see room_budget.h.
#include "relay/room_budget.h"

#include <algorithm>

namespace streamshift {

RoomBudget::RoomBudget(size_t room_cap, size_t streams)
    : room_cap_(std::max<size_t>(room_cap, 1)), spilled_(streams), scans_(streams) {}

RoomBudget::Room& RoomBudget::room(const std::string& key, size_t stream) {
  auto [it, created] = rooms_.try_emplace(key);
  if (created) it->second.stream = stream;
  return it->second;
}

bool RoomBudget::admit(const std::string& key, size_t stream, StreamId id) {
  Room& r = room(key, stream);
  bool in_line = !r.spilled || id <= r.after;
  if (in_line && r.held.size() < cap(r)) {
    hold(r, id);
    return true;
  }
  widen(key, r, id);
  return false;
}

bool RoomBudget::admit_scanned(const std::string& key, size_t stream, StreamId id) {
  Scan& s = scans_[stream];
  if (s.active && id > s.position) s.position = id;
  auto it = rooms_.find(key);
  if (s.active && it != rooms_.end() && it->second.spilled && id > it->second.after) {
    Room& r = it->second;
    if (!covered(r, s)) {
      widen(key, r, id);
      return false;
    }
    if (id > r.last) {
      unspill(key, r);  // what was set aside is no longer pending here
    } else if (r.held.size() < cap(r) && (r.held.empty() || r.held.back() < id)) {
      hold(r, id);
      r.after = id;
      if (r.after == r.last) unspill(key, r);
      return true;
    } else {
      r.blocked_scan = s.generation;
      return false;
    }
  }
  return admit(key, stream, id);
}

bool RoomBudget::may_queue(const std::string& key, StreamId id) const {
  auto it = rooms_.find(key);
  return it == rooms_.end() || !it->second.spilled || id <= it->second.after;
}

void RoomBudget::set_aside(const std::string& key, size_t stream, StreamId id) {
  widen(key, room(key, stream), id);
}

void RoomBudget::hold(Room& r, StreamId id) {
  r.held.insert(std::upper_bound(r.held.begin(), r.held.end(), id), id);
}

void RoomBudget::left(const std::string& key, StreamId id) {
  auto it = rooms_.find(key);
  if (it == rooms_.end()) return;
  Room& r = it->second;
  auto held = std::lower_bound(r.held.begin(), r.held.end(), id);
  if (held != r.held.end() && *held == id) r.held.erase(held);
  if (r.spilled && wants_scan(r)) scans_[r.stream].wanted = true;
  maybe_erase(key);
}

void RoomBudget::set_failing(const std::string& key, bool failing) {
  auto it = rooms_.find(key);
  if (it == rooms_.end()) return;  // its head is held: the room is known
  Room& r = it->second;
  r.failing = failing;
  if (r.spilled && wants_scan(r)) scans_[r.stream].wanted = true;
  maybe_erase(key);
}

void RoomBudget::widen(const std::string& key, Room& r, StreamId id) {
  StreamId before = id.before();
  if (!r.spilled) {
    r.spilled = true;
    spilled_[r.stream].insert(key);
    r.after = before;
    r.last = id;
  } else {
    r.after = std::min(r.after, before);
    r.last = std::max(r.last, id);
  }
  // Set aside behind the running scan: that scan cannot vouch for the room.
  const Scan& s = scans_[r.stream];
  if (s.active && id <= s.position) r.blocked_scan = s.generation;
}

void RoomBudget::unspill(const std::string& key, Room& r) {
  r.spilled = false;
  spilled_[r.stream].erase(key);
}

void RoomBudget::maybe_erase(const std::string& key) {
  auto it = rooms_.find(key);
  if (it != rooms_.end() && it->second.held.empty() && !it->second.spilled && !it->second.failing)
    rooms_.erase(it);
}

bool RoomBudget::wants_scan(const Room& r) const {
  return !r.failing && r.held.size() <= cap(r) / 2;
}

bool RoomBudget::covered(const Room& r, const Scan& s) const {
  return s.active && s.start <= r.after && r.blocked_scan != s.generation;
}

std::optional<StreamId> RoomBudget::next_scan(size_t stream) {
  Scan& s = scans_[stream];
  if (s.active || !s.wanted) return std::nullopt;
  s.wanted = false;
  std::optional<StreamId> from;
  for (const std::string& key : spilled_[stream]) {
    const Room& r = rooms_.at(key);
    if (wants_scan(r) && (!from || r.after < *from)) from = r.after;
  }
  if (!from) return std::nullopt;
  s.active = true;
  ++s.generation;
  s.start = s.position = *from;
  return from;
}

bool RoomBudget::scan_page_done(size_t stream, std::optional<StreamId> last) {
  Scan& s = scans_[stream];
  if (!s.active) return false;
  if (last && *last > s.position) s.position = *last;
  bool go_on = false;
  std::vector<std::string> emptied;
  for (const std::string& key : spilled_[stream]) {
    Room& r = rooms_.at(key);
    if (!covered(r, s)) continue;
    if (!last || r.last <= s.position) {
      emptied.push_back(key);  // nothing of it was left in the pending list
    } else if (!r.failing && r.held.size() < cap(r)) {
      go_on = true;
    }
  }
  for (const std::string& key : emptied) {
    unspill(key, rooms_.at(key));
    maybe_erase(key);
  }
  if (!go_on) {
    s.active = false;
    // Rooms blocked in this scan, or set aside below its start, want another.
    for (const std::string& key : spilled_[stream]) {
      if (wants_scan(rooms_.at(key))) s.wanted = true;
    }
  }
  return go_on;
}

void RoomBudget::want_scans() {
  for (size_t stream = 0; stream < scans_.size(); ++stream) {
    if (!spilled_[stream].empty()) scans_[stream].wanted = true;
  }
}

void RoomBudget::scan_failed(size_t stream) {
  scans_[stream].active = false;
  scans_[stream].wanted = true;
}

std::optional<std::pair<StreamId, StreamId>> RoomBudget::set_aside_range(size_t stream) const {
  std::optional<std::pair<StreamId, StreamId>> range;
  for (const std::string& key : spilled_[stream]) {
    const Room& r = rooms_.at(key);
    if (!range) {
      range.emplace(r.after, r.last);
    } else {
      range->first = std::min(range->first, r.after);
      range->second = std::max(range->second, r.last);
    }
  }
  return range;
}

bool RoomBudget::spilled(const std::string& key) const {
  auto it = rooms_.find(key);
  return it != rooms_.end() && it->second.spilled;
}

size_t RoomBudget::held(const std::string& key) const {
  auto it = rooms_.find(key);
  return it == rooms_.end() ? 0 : it->second.held.size();
}

}  // namespace streamshift
