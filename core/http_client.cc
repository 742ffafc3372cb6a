// The upstream keep-alive pool: queue, connections, name resolution; see
// http_client.h for the lifecycle and upstream_connection.h for one connection.
#include "core/http_client.h"

#include <cstring>

#include "core/log.h"
#include "core/loop.h"

namespace streamshift {

UpstreamPool::UpstreamPool(uv_loop_t* loop, UpstreamOptions options)
    : loop_(loop), options_(std::move(options)) {
  uv_timer_init(loop_, &queue_timer_);
  queue_timer_.data = this;
  resolve_req_.data = this;
  address_ready_ = numeric_sockaddr(options_.host, options_.port, &address_);
}

UpstreamPool::~UpstreamPool() = default;

void UpstreamPool::send(std::unique_ptr<UpstreamRequest> request) {
  submit(PendingRequest{std::move(request), uv_now(loop_) + options_.request_timeout_ms});
}

void UpstreamPool::submit(PendingRequest pending) {
  if (shutting_down_) {
    pending.fail(UpstreamError::kShutdown, "the sidecar is shutting down");
    return;
  }
  if (queue_.empty() && try_dispatch(pending)) return;
  queue_.push_back(std::move(pending));
  if (!address_ready_) resolve();
  arm_queue_timer();
}

// The most recently used idle connection first: the likeliest to be open.
UpstreamConnection* UpstreamPool::take_idle() {
  while (UpstreamConnection* c = idle_.pop_front()) {
    if (c->still_open()) return c;
    ++stale_retries_;
    c->close(UpstreamError::kNone, "stale keep-alive connection (closed by upstream)");
  }
  return nullptr;
}

bool UpstreamPool::try_dispatch(PendingRequest& pending) {
  if (UpstreamConnection* c = take_idle()) {
    c->dispatch(std::move(pending), true);
    return true;
  }
  if (!address_ready_ || connections_.size() >= options_.max_connections) return false;
  if (resolved_at_ != 0 && uv_now(loop_) - resolved_at_ > options_.dns_ttl_ms) resolve();
  auto* c = new UpstreamConnection(loop_, options_, *this);
  connections_.push_front(c);
  ++connections_opened_;
  c->connect(address_, std::move(pending));
  return true;
}

void UpstreamPool::pump() {
  while (!queue_.empty() && !shutting_down_) {
    PendingRequest next = std::move(queue_.front());
    queue_.pop_front();
    if (!try_dispatch(next)) {
      queue_.push_front(std::move(next));
      break;
    }
  }
  arm_queue_timer();
}

void UpstreamPool::arm_queue_timer() {
  if (queue_.empty()) {
    uv_timer_stop(&queue_timer_);
    return;
  }
  uint64_t now = uv_now(loop_);
  uint64_t deadline = queue_.front().deadline;
  uv_timer_start(&queue_timer_, on_queue_timer, deadline > now ? deadline - now : 0, 0);
}

void UpstreamPool::on_queue_timer(uv_timer_t* t) {
  auto* pool = static_cast<UpstreamPool*>(t->data);
  uint64_t now = uv_now(pool->loop_);
  while (!pool->queue_.empty() && pool->queue_.front().deadline <= now) {
    PendingRequest p = std::move(pool->queue_.front());
    pool->queue_.pop_front();
    p.fail(pool->address_ready_ ? UpstreamError::kTimeout : UpstreamError::kResolveFailed,
           pool->address_ready_ ? "no upstream connection free within " +
                                      std::to_string(pool->options_.request_timeout_ms) + " ms"
                                : "could not resolve " + pool->options_.host + " in time");
  }
  pool->arm_queue_timer();
}

void UpstreamPool::fail_queued(UpstreamError error, const std::string& detail) {
  while (!queue_.empty()) {
    PendingRequest p = std::move(queue_.front());
    queue_.pop_front();
    p.fail(error, detail);
  }
}

void UpstreamPool::resolve() {
  if (resolving_ || shutting_down_) return;
  resolving_ = true;
  addrinfo hints;
  std::memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  int rc = uv_getaddrinfo(loop_, &resolve_req_, on_resolved, options_.host.c_str(),
                          std::to_string(options_.port).c_str(), &hints);
  if (rc != 0) {
    resolving_ = false;
    log_line(LogLevel::kError, "upstream resolve failed",
             {{"host", options_.host}, {"error", uv_error_text(rc)}});
  }
}

void UpstreamPool::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  auto* pool = static_cast<UpstreamPool*>(req->data);
  pool->resolving_ = false;
  if (status == 0 && res != nullptr) {
    std::memcpy(&pool->address_, res->ai_addr, res->ai_addrlen);
    pool->address_ready_ = true;
    pool->resolved_at_ = uv_now(pool->loop_);
  } else {
    log_line(LogLevel::kError, "upstream resolve failed",
             {{"host", pool->options_.host}, {"error", uv_error_text(status)}});
    if (!pool->address_ready_) {
      pool->fail_queued(UpstreamError::kResolveFailed,
                        "could not resolve " + pool->options_.host + ": " + uv_error_text(status));
    }
  }
  if (res != nullptr) uv_freeaddrinfo(res);
  pool->pump();
}

void UpstreamPool::connection_idle(UpstreamConnection* c) {
  if (shutting_down_) {
    c->close(UpstreamError::kNone, "not reusable: shutting down");
    return;
  }
  idle_.push_front(c);
  pump();
}

void UpstreamPool::connection_closing(UpstreamConnection* c) {
  if (idle_.linked(c)) idle_.remove(c);
}

void UpstreamPool::connection_closed(UpstreamConnection* c) {
  connections_.remove(c);
  delete c;
  if (shutting_down_) {
    notify_if_closed();
    return;
  }
  pump();
}

void UpstreamPool::resend(PendingRequest pending) {
  ++stale_retries_;
  submit(std::move(pending));
}

void UpstreamPool::shutdown(std::function<void()> on_closed) {
  shutting_down_ = true;
  on_closed_ = std::move(on_closed);
  fail_queued(UpstreamError::kShutdown, "the sidecar is shutting down");
  close_handle(reinterpret_cast<uv_handle_t*>(&queue_timer_), nullptr);
  if (resolving_) uv_cancel(reinterpret_cast<uv_req_t*>(&resolve_req_));
  connections_.for_each(
      [](UpstreamConnection* c) { c->close(UpstreamError::kShutdown, "shutdown"); });
  notify_if_closed();
}

void UpstreamPool::notify_if_closed() {
  if (!connections_.empty() || !on_closed_) return;
  auto done = std::move(on_closed_);
  on_closed_ = nullptr;
  done();
}

}  // namespace streamshift
