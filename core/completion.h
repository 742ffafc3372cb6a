// Completions that must run exactly once: a drain's "all closed", a
// command's result. The callback is taken out of its slot before it runs, so
// during the call the slot is already empty (a second completion does
// nothing, and the callback may fill the slot again or free its owner).
#pragma once

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

}  // namespace streamshift
