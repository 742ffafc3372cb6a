// libuv timers and checks for the relay; see relay_clock.h.
#include "relay/relay_clock.h"

#include "core/loop.h"

namespace streamshift {

// What every timer and task holds; its handle's data points at it until
// close(), then at the clock.
struct UvRelayClock::Handle {
  virtual ~Handle() = default;
  virtual uv_handle_t* uv() = 0;
  UvRelayClock* clock = nullptr;
  std::function<void()> fire;
};

struct UvRelayClock::Timer final : Handle, RelayTimer {
  uv_timer_t handle;
  uv_handle_t* uv() override { return reinterpret_cast<uv_handle_t*>(&handle); }

  void start(uint64_t delay_ms, uint64_t repeat_ms) override {
    if (clock->closing_) return;
    uv_timer_start(
        &handle, [](uv_timer_t* t) { static_cast<Timer*>(t->data)->fire(); }, delay_ms, repeat_ms);
  }
  void stop() override { uv_timer_stop(&handle); }
  bool active() const override {
    return uv_is_active(reinterpret_cast<const uv_handle_t*>(&handle)) != 0;
  }
};

struct UvRelayClock::Check final : Handle, TurnEndTask {
  uv_check_t handle;
  uv_handle_t* uv() override { return reinterpret_cast<uv_handle_t*>(&handle); }

  void arm() override {
    if (clock->closing_) return;
    uv_check_start(&handle, [](uv_check_t* h) {
      auto* self = static_cast<Check*>(h->data);
      uv_check_stop(h);
      self->fire();
    });
  }
  void disarm() override { uv_check_stop(&handle); }
};

UvRelayClock::UvRelayClock(uv_loop_t* loop) : loop_(loop) {}
UvRelayClock::~UvRelayClock() = default;

template <typename T>
T& UvRelayClock::adopt(std::unique_ptr<T> handle, std::function<void()> fire) {
  T& h = *handle;
  h.clock = this;
  h.fire = std::move(fire);
  h.uv()->data = &h;
  ++open_;
  handles_.push_back(std::move(handle));
  return h;
}

RelayTimer& UvRelayClock::timer(std::function<void()> fire) {
  auto t = std::make_unique<Timer>();
  uv_timer_init(loop_, &t->handle);
  return adopt(std::move(t), std::move(fire));
}

TurnEndTask& UvRelayClock::turn_end_task(std::function<void()> fire) {
  auto c = std::make_unique<Check>();
  uv_check_init(loop_, &c->handle);
  return adopt(std::move(c), std::move(fire));
}

void UvRelayClock::close(std::function<void()> on_closed) {
  if (closing_) return;
  closing_ = true;
  on_closed_ = std::move(on_closed);
  // The handles' data now points at the clock, for the close callbacks.
  auto closed = [](uv_handle_t* h) { static_cast<UvRelayClock*>(h->data)->handle_closed(); };
  for (auto& h : handles_) {
    h->uv()->data = this;
    close_handle(h->uv(), closed);
  }
  if (open_ == 0) handle_closed_all();
}

void UvRelayClock::handle_closed() {
  if (--open_ == 0) handle_closed_all();
}

void UvRelayClock::handle_closed_all() {
  if (auto done = std::move(on_closed_)) done();
}

}  // namespace streamshift
