// Completions that must run exactly once: a drain's "all closed", a
// command's result. The callback is taken out of its slot before it runs, so
// during the call the slot is already empty (a second completion does
// nothing, and the callback may fill the slot again or free its owner).
#pragma once

#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

namespace streamshift {

/// Runs the callback in `slot` with `args` and leaves the slot empty; false
/// (and nothing runs) when the slot was empty. For std::function and plain
/// function pointers alike.
template <class Callback, class... Args>
bool complete_once(Callback& slot, Args&&... args) {
  if (!slot) return false;
  Callback callback = std::move(slot);
  slot = nullptr;
  callback(std::forward<Args>(args)...);
  return true;
}

/// Runs every callback waiting in `slots`, each once, and leaves the list
/// empty; callbacks added while they run wait for the next completion.
template <class Callback, class... Args>
void complete_all(std::vector<Callback>& slots, const Args&... args) {
  std::vector<Callback> waiting = std::move(slots);
  slots.clear();
  for (Callback& callback : waiting) complete_once(callback, args...);
}

/// The start of a shutdown(on_closed) of an object closing several parts:
/// true for the first call (the caller then closes its parts and runs
/// `waiting` once `open_parts` reaches 0). A later call (a drain timeout's
/// close_now, then the graceful path) adds its callback, or runs it at once
/// when everything is closed already.
inline bool begin_shutdown(bool& shutting_down, size_t open_parts,
                           std::vector<std::function<void()>>& waiting,
                           std::function<void()> on_closed) {
  if (shutting_down && open_parts == 0) {
    if (on_closed) on_closed();
    return false;
  }
  if (on_closed) waiting.push_back(std::move(on_closed));
  if (shutting_down) return false;
  shutting_down = true;
  return true;
}

}  // namespace streamshift
