// Handing an immutable snapshot (the settings in force, issue 19) to every
// worker loop with no lock on the hot path:
//
//   any thread: hub.publish(next)        worker loop k: SnapshotSlot k
//     | lock; latest = next; unlock            |
//     | uv_async_send(slot k) for each slot --> on_wake (between two callbacks of
//     |                                          | the loop, never inside a request's)
//     |                                          | lock; take hub.latest(); unlock
//     |                                          v
//     |                                        current_ swapped; on_swap(before, after)
//
// The hot path reads `slot.current()`: a pointer owned by the worker's loop,
// written only on that loop, so no lock and no atomic. uv_async_send
// coalesces wakes, and the slot always takes the latest, so a slow worker
// skips intermediate snapshots but never goes back. A request that must
// finish on the path it started on keeps `slot.hold()` (the snapshot stays
// alive and unchanged while held). The hub's mutex is taken only to publish
// and on a wake.
//
// A slot is made and closed on its worker's loop thread; close() detaches it
// from the hub first (no wake can reach it afterwards), then closes its
// handle; on_closed runs from the close callback, after which the slot may
// be freed. The hub outlives its slots.
#pragma once

#include <uv.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace streamshift {

template <class T>
class SnapshotSlot;

template <class T>
class SnapshotHub {
 public:
  explicit SnapshotHub(std::shared_ptr<const T> initial) : latest_(std::move(initial)) {}
  SnapshotHub(const SnapshotHub&) = delete;
  SnapshotHub& operator=(const SnapshotHub&) = delete;

  /// Any thread: `next` becomes the latest and every slot is woken.
  void publish(std::shared_ptr<const T> next) {
    std::lock_guard<std::mutex> lock(mutex_);
    latest_ = std::move(next);
    for (uv_async_t* wake : wakes_) uv_async_send(wake);
  }

  std::shared_ptr<const T> latest() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return latest_;
  }

 private:
  friend class SnapshotSlot<T>;

  std::shared_ptr<const T> attach(uv_async_t* wake) {
    std::lock_guard<std::mutex> lock(mutex_);
    wakes_.push_back(wake);
    return latest_;
  }
  void detach(uv_async_t* wake) {
    std::lock_guard<std::mutex> lock(mutex_);
    wakes_.erase(std::remove(wakes_.begin(), wakes_.end(), wake), wakes_.end());
  }

  mutable std::mutex mutex_;
  std::shared_ptr<const T> latest_;
  std::vector<uv_async_t*> wakes_;
};

template <class T>
class SnapshotSlot {
 public:
  /// Runs on the worker loop right after a swap (e.g. flush what a setting
  /// turned off held back).
  using OnSwap = std::function<void(const T& before, const T& after)>;

  /// On `loop`'s thread. Starts with the hub's latest snapshot.
  SnapshotSlot(uv_loop_t* loop, SnapshotHub<T>& hub, OnSwap on_swap = {})
      : hub_(hub), on_swap_(std::move(on_swap)) {
    uv_async_init(loop, &wake_, on_wake);
    wake_.data = this;
    current_ = hub_.attach(&wake_);
  }
  SnapshotSlot(const SnapshotSlot&) = delete;
  SnapshotSlot& operator=(const SnapshotSlot&) = delete;

  /// The hot path, on the worker loop only.
  const T& current() const { return *current_; }
  /// The snapshot in force, kept alive for as long as the caller holds it.
  const std::shared_ptr<const T>& hold() const { return current_; }

  /// On the worker loop: detach, close; `on_closed` from the close callback.
  void close(std::function<void()> on_closed) {
    if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&wake_))) return;
    hub_.detach(&wake_);
    on_closed_ = std::move(on_closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&wake_), [](uv_handle_t* h) {
      auto then = std::move(static_cast<SnapshotSlot*>(h->data)->on_closed_);
      if (then) then();  // may free the slot
    });
  }

 private:
  static void on_wake(uv_async_t* wake) {
    auto* self = static_cast<SnapshotSlot*>(wake->data);
    std::shared_ptr<const T> next = self->hub_.latest();
    if (next == self->current_) return;
    std::shared_ptr<const T> before = std::exchange(self->current_, std::move(next));
    if (self->on_swap_) self->on_swap_(*before, *self->current_);
  }

  SnapshotHub<T>& hub_;
  OnSwap on_swap_;
  uv_async_t wake_;
  std::shared_ptr<const T> current_;
  std::function<void()> on_closed_;
};

}  // namespace streamshift
