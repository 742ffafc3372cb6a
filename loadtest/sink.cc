// The load generator's sink; see sink.h.
#include "loadtest/sink.h"

#include "core/loop.h"

namespace streamshift {

struct Sink::Delayed {
  uv_timer_t timer;
  Sink* sink;
  Exchange* exchange;
};

Sink::Sink(HostPort listen, uint32_t users, uint64_t delay_ms)
    : delay_ms_(delay_ms), newest_typing_seq_(users, 0) {
  report_.last_typing_state.assign(users, TypingState::kNone);
  uv_loop_init(&loop_);
  uv_async_init(&loop_, &wake_, on_wake);
  wake_.data = this;
  ServerOptions options;
  options.listen = std::move(listen);
  options.reuse_port = false;
  options.limits.max_body_bytes = 1 << 20;
  server_ = std::make_unique<HttpServer>(&loop_, options, *this);
}

Sink::~Sink() {
  if (thread_.joinable()) stop();
  server_.reset();
  close_loop(&loop_);
}

int Sink::start() {
  int rc = server_->start();
  if (rc != 0) return rc;
  thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
  return 0;
}

SinkReport Sink::stop() {
  stop_.store(true);
  uv_async_send(&wake_);
  thread_.join();
  return report_;
}

void Sink::on_wake(uv_async_t* handle) {
  auto* self = static_cast<Sink*>(handle->data);
  if (self->stop_.load()) {
    for (Delayed* d : self->delayed_) {  // answered now: nothing waits past the stop
      uv_timer_stop(&d->timer);
      answer(*d->exchange);
      uv_close(reinterpret_cast<uv_handle_t*>(&d->timer),
               [](uv_handle_t* h) { delete static_cast<Delayed*>(h->data); });
    }
    self->delayed_.clear();
    self->server_->drain([] {});
    self->server_->close_all("sink stopping");
    uv_close(reinterpret_cast<uv_handle_t*>(&self->wake_), nullptr);
  }
}

void Sink::on_request(Exchange& exchange) {
  uint64_t now = uv_hrtime();
  HttpRequest& request = exchange.request();
  DeliveredEvent e;
  std::string_view header = request.headers.find("x-event-id").value_or("");
  if (!parse_delivered(header, request.body, &e)) {
    ++report_.foreign;
  } else {
    // The newest typing state per user counts whenever it was sent: the
    // check is that the last state of every key arrived.
    if (e.typing && e.user < newest_typing_seq_.size() && e.seq >= newest_typing_seq_[e.user]) {
      newest_typing_seq_[e.user] = e.seq;
      report_.last_typing_state[e.user] = e.state;
    }
    if (e.intended_ns < measure_from_ns_.load(std::memory_order_relaxed)) {
      ++report_.warmup;
    } else {
      ++report_.received;
      received_.store(report_.received, std::memory_order_relaxed);
      report_.latency.record(now > e.intended_ns ? now - e.intended_ns : 0);
      if (e.typing) ++report_.typing_received;
    }
  }
  if (delay_ms_ == 0) {
    answer(exchange);
    return;
  }
  auto* d = new Delayed{{}, this, &exchange};
  uv_timer_init(&loop_, &d->timer);
  d->timer.data = d;
  delayed_.insert(d);
  uv_timer_start(&d->timer, on_delay_done, delay_ms_, 0);
}

void Sink::on_delay_done(uv_timer_t* timer) {
  auto* d = static_cast<Delayed*>(timer->data);
  d->sink->delayed_.erase(d);
  answer(*d->exchange);
  uv_close(reinterpret_cast<uv_handle_t*>(timer),
           [](uv_handle_t* h) { delete static_cast<Delayed*>(h->data); });
}

void Sink::answer(Exchange& exchange) {
  Response r;
  r.content_type = "text/plain";
  r.body = "ok";
  exchange.respond(std::move(r));
}

}  // namespace streamshift
