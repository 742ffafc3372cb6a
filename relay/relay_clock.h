// Time for the relay's parts: the loop's clock, timers, and a task run at
// the end of a loop turn. The Impl is over libuv; tests drive a fake
// (tests/relay/relay_fakes.h) and move time themselves.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace streamshift {

class RelayTimer {
 public:
  virtual ~RelayTimer() = default;
  /// Fires after `delay_ms`, then every `repeat_ms` unless 0; restarts an
  /// active timer. Does nothing once the clock is closed.
  virtual void start(uint64_t delay_ms, uint64_t repeat_ms = 0) = 0;
  virtual void stop() = 0;
  virtual bool active() const = 0;
};

/// Runs its function once at the end of the loop turn in which it was
/// armed, after that turn's I/O callbacks (however often it was armed).
class TurnEndTask {
 public:
  virtual ~TurnEndTask() = default;
  virtual void arm() = 0;
  virtual void disarm() = 0;
};

class RelayClock {
 public:
  virtual ~RelayClock() = default;
  /// The loop's time in milliseconds (uv_now).
  virtual uint64_t now_ms() const = 0;
  /// A timer calling `fire`, owned by the clock.
  virtual RelayTimer& timer(std::function<void()> fire) = 0;
  virtual TurnEndTask& turn_end_task(std::function<void()> fire) = 0;
  /// Closes every timer and task; `on_closed` runs once all are closed.
  virtual void close(std::function<void()> on_closed) = 0;
};

/// Timers and checks on a libuv loop. Their handles live in this object and
/// are closed by close(), which must have completed before it is destroyed.
class UvRelayClock final : public RelayClock {
 public:
  explicit UvRelayClock(uv_loop_t* loop);
  ~UvRelayClock() override;
  UvRelayClock(const UvRelayClock&) = delete;
  UvRelayClock& operator=(const UvRelayClock&) = delete;

  uint64_t now_ms() const override { return uv_now(loop_); }
  RelayTimer& timer(std::function<void()> fire) override;
  TurnEndTask& turn_end_task(std::function<void()> fire) override;
  void close(std::function<void()> on_closed) override;

 private:
  struct Handle;
  struct Timer;
  struct Check;
  template <typename T>
  T& adopt(std::unique_ptr<T> handle, std::function<void()> fire);
  void handle_closed();
  void handle_closed_all();

  uv_loop_t* loop_;
  std::vector<std::unique_ptr<Handle>> handles_;
  size_t open_ = 0;
  bool closing_ = false;
  std::function<void()> on_closed_;
};

}  // namespace streamshift
