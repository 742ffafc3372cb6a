// Time on the event path: the loop's millisecond clock and one wake-up, behind a small
// interface so tests drive coalescing windows and the circuit breaker by hand.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>

namespace streamshift {

class EventClock {
 public:
  virtual ~EventClock() = default;
  virtual uint64_t now_ms() const = 0;
  /// Runs the wake-up at `due_ms` (at once if it has passed), replacing any earlier
  /// one; 0 cancels it.
  virtual void wake_at(uint64_t due_ms) = 0;
  /// No wake-up ever again (shutdown).
  virtual void stop() = 0;

  void set_wake(std::function<void()> wake) { wake_ = std::move(wake); }

 protected:
  void wake() {
    if (wake_) wake_();
  }

 private:
  std::function<void()> wake_;
};

/// uv_now and one uv_timer_t. Its owner outlives the loop's close (Worker closes its
/// loop before its members go), so the timer is freed after its close callback.
class LoopClock final : public EventClock {
 public:
  explicit LoopClock(uv_loop_t* loop);
  LoopClock(const LoopClock&) = delete;
  LoopClock& operator=(const LoopClock&) = delete;

  uint64_t now_ms() const override { return uv_now(loop_); }
  void wake_at(uint64_t due_ms) override;
  void stop() override;

 private:
  static void on_timer(uv_timer_t* timer);

  uv_loop_t* loop_;
  uv_timer_t timer_;
  bool open_ = true;
  uint64_t due_ = 0;
};

}  // namespace streamshift
