// The loop's clock; see event_clock.h.
#include "proxy/event_clock.h"

#include "core/loop.h"

namespace streamshift {

LoopClock::LoopClock(uv_loop_t* loop) : loop_(loop) {
  uv_timer_init(loop, &timer_);
  timer_.data = this;
}

void LoopClock::wake_at(uint64_t due_ms) {
  if (!open_ || due_ms == due_) return;
  due_ = due_ms;
  if (due_ms == 0) {
    uv_timer_stop(&timer_);
    return;
  }
  uint64_t now = uv_now(loop_);
  uv_timer_start(&timer_, on_timer, due_ms > now ? due_ms - now : 0, 0);
}

void LoopClock::stop() {
  if (!open_) return;
  open_ = false;
  close_handle(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
}

void LoopClock::on_timer(uv_timer_t* timer) {
  auto* self = static_cast<LoopClock*>(timer->data);
  self->due_ = 0;
  self->wake();
}

}  // namespace streamshift
