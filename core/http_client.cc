// The upstream keep-alive pool; see http_client.h for the lifecycle.
#include "core/http_client.h"

#include <sys/socket.h>

#include <cstring>

#include "core/http_response_reader.h"
#include "core/log.h"
#include "core/loop.h"

namespace streamshift {
namespace {

constexpr uint64_t kIdleConnectionTimeoutMs = 30000;

}  // namespace

class UpstreamConnection {
 public:
  explicit UpstreamConnection(UpstreamPool* pool)
      : pool_(pool),
        reader_({pool->options_.max_response_head_bytes, pool->options_.max_response_bytes}) {
    tcp_.data = this;
    timer_.data = this;
    connect_req_.data = this;
    write_req_.data = this;
  }

  void connect(UpstreamPool::Pending pending);
  void dispatch(UpstreamPool::Pending pending, bool reused);
  /// True when the idle socket has neither EOF nor stray bytes waiting.
  bool still_open();
  void close(UpstreamError error, std::string_view reason);

  UpstreamConnection* prev = nullptr;
  UpstreamConnection* next = nullptr;
  UpstreamConnection* idle_prev = nullptr;
  UpstreamConnection* idle_next = nullptr;
  bool in_idle_list = false;

 private:
  enum class State { kConnecting, kBusy, kIdle, kClosing };

  static void on_connect(uv_connect_t* req, int status);
  static void on_timer(uv_timer_t* t);
  static void on_write(uv_write_t* req, int status);
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_closed(uv_handle_t* h);

  void handle(HttpResponseReader::Progress progress);
  void finish(bool reusable);
  void complete(UpstreamResponse& response);
  void complete_with_error(UpstreamError error, std::string detail);
  void start_timer(uint64_t ms) { uv_timer_start(&timer_, on_timer, ms, 0); }

  UpstreamPool* pool_;
  uv_tcp_t tcp_;
  uv_timer_t timer_;
  uv_connect_t connect_req_;
  uv_write_t write_req_;
  State state_ = State::kConnecting;
  UpstreamPool::Pending current_;
  std::unique_ptr<UpstreamRequest> retired_;  // kept until its write completes
  HttpResponseReader reader_;
  char read_buf_[16 * 1024];
  int open_handles_ = 0;
  bool writing_ = false;
};

// ---- UpstreamConnection ----

void UpstreamConnection::connect(UpstreamPool::Pending pending) {
  current_ = std::move(pending);
  uv_tcp_init(pool_->loop_, &tcp_);
  uv_timer_init(pool_->loop_, &timer_);
  open_handles_ = 2;
  uv_tcp_nodelay(&tcp_, 1);
  uint64_t now = uv_now(pool_->loop_);
  uint64_t left = current_.deadline > now ? current_.deadline - now : 1;
  start_timer(std::min(left, pool_->options_.connect_timeout_ms));
  int rc = uv_tcp_connect(&connect_req_, &tcp_, reinterpret_cast<const sockaddr*>(&pool_->address_),
                          on_connect);
  if (rc != 0) {
    complete_with_error(UpstreamError::kConnectFailed, "connect: " + uv_error_text(rc));
    close(UpstreamError::kConnectFailed, "connect failed");
  }
}

void UpstreamConnection::on_connect(uv_connect_t* req, int status) {
  auto* c = static_cast<UpstreamConnection*>(req->data);
  if (c->state_ == State::kClosing) return;
  if (status != 0) {
    c->complete_with_error(UpstreamError::kConnectFailed,
                           "connect to " + c->pool_->options_.host + ":" +
                               std::to_string(c->pool_->options_.port) + ": " +
                               uv_error_text(status));
    c->close(UpstreamError::kConnectFailed, "connect failed");
    return;
  }
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp_), on_alloc, on_read);
  c->dispatch(std::move(c->current_), false);
}

void UpstreamConnection::dispatch(UpstreamPool::Pending pending, bool reused) {
  current_ = std::move(pending);
  state_ = State::kBusy;
  reader_.reset(current_.request->is_head);
  uint64_t now = uv_now(pool_->loop_);
  start_timer(current_.deadline > now ? current_.deadline - now : 1);
  UpstreamRequest& r = *current_.request;
  std::string_view body = r.body.empty() ? r.borrowed_body : std::string_view(r.body);
  uv_buf_t bufs[2] = {uv_buf_init(r.head.data(), r.head.size()),
                      uv_buf_init(const_cast<char*>(body.data()), body.size())};
  uv_buf_t* unsent = bufs;
  unsigned nbufs = body.empty() ? 1 : 2;
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  int error = 0;
  bool written = try_write_all(stream, unsent, nbufs, &error);
  bool nothing_written = unsent == bufs && unsent->base == r.head.data();
  if (!written && error == 0) error = uv_write(&write_req_, stream, unsent, nbufs, on_write);
  if (error != 0) {
    if (reused && nothing_written) {
      // Nothing of this request reached the socket: a stale connection.
      UpstreamPool::Pending again = std::move(current_);
      ++pool_->stale_retries_;
      close(UpstreamError::kNone, "stale keep-alive connection (write refused)");
      pool_->submit(std::move(again));
      return;
    }
    complete_with_error(UpstreamError::kClosed, "write: " + uv_error_text(error));
    close(UpstreamError::kClosed, "write failed");
    return;
  }
  writing_ = !written;
}

bool UpstreamConnection::still_open() {
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &fd) != 0) return false;
  char byte;
  ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void UpstreamConnection::on_write(uv_write_t* req, int status) {
  auto* c = static_cast<UpstreamConnection*>(req->data);
  c->writing_ = false;
  c->retired_.reset();
  if (status < 0 && c->state_ != State::kClosing) {
    c->complete_with_error(UpstreamError::kClosed, "write: " + uv_error_text(status));
    c->close(UpstreamError::kNone, "write failed");
  }
}

void UpstreamConnection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* c = static_cast<UpstreamConnection*>(h->data);
  *buf = uv_buf_init(c->read_buf_, sizeof c->read_buf_);
}

void UpstreamConnection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<UpstreamConnection*>(s->data);
  if (nread == 0 || c->state_ == State::kClosing) return;
  if (c->state_ == State::kIdle) {
    c->close(UpstreamError::kNone,
             nread < 0 ? "closed by upstream while idle" : "unexpected bytes while idle");
    return;
  }
  if (nread == UV_EOF) {
    c->handle(c->reader_.eof());
  } else if (nread < 0) {
    c->complete_with_error(UpstreamError::kClosed,
                           "read: " + uv_error_text(static_cast<int>(nread)));
    c->close(UpstreamError::kClosed, "read error");
  } else {
    c->handle(c->reader_.feed(buf->base, static_cast<size_t>(nread)));
  }
}

void UpstreamConnection::handle(HttpResponseReader::Progress progress) {
  switch (progress) {
    case HttpResponseReader::Progress::kNeedMore:
      break;
    case HttpResponseReader::Progress::kComplete:
      finish(reader_.reusable());
      break;
    case HttpResponseReader::Progress::kError: {
      const ResponseFramingError& e = reader_.error();
      complete_with_error(e.error, e.detail);
      close(UpstreamError::kNone, e.code);
      break;
    }
  }
}

void UpstreamConnection::finish(bool reusable) {
  state_ = State::kIdle;
  // The upstream answered before reading all of the request: not reusable.
  reusable = reusable && !writing_;
  complete(reader_.response());
  if (state_ != State::kIdle) return;  // closed from inside the callback
  if (!reusable || pool_->shutting_down_) {
    close(UpstreamError::kNone, "not reusable");
    return;
  }
  start_timer(kIdleConnectionTimeoutMs);
  pool_->connection_idle(this);
}

// The one way a request in flight ends: current_ is emptied before on_done
// runs, so it runs once.
void UpstreamConnection::complete(UpstreamResponse& response) {
  if (!current_.request) return;
  uv_timer_stop(&timer_);
  std::unique_ptr<UpstreamRequest> done = std::move(current_.request);
  done->on_done(response);
  if (writing_) retired_ = std::move(done);  // its bytes are still being written
}

void UpstreamConnection::complete_with_error(UpstreamError error, std::string detail) {
  UpstreamResponse response = UpstreamResponse::failure(error, std::move(detail));
  complete(response);
}

void UpstreamConnection::close(UpstreamError error, std::string_view reason) {
  if (state_ == State::kClosing) return;
  if (error != UpstreamError::kNone) {
    complete_with_error(error, std::string(reason));
  }
  state_ = State::kClosing;
  if (log_enabled(LogLevel::kDebug)) {
    log_line(LogLevel::kDebug, "upstream connection closed", {{"reason", reason}});
  }
  if (in_idle_list) pool_->take_idle_specific(this);
  if (open_handles_ == 0) {  // never opened
    pool_->connection_closed(this);
    return;
  }
  uv_timer_stop(&timer_);
  close_handle(reinterpret_cast<uv_handle_t*>(&tcp_), on_closed);
  close_handle(reinterpret_cast<uv_handle_t*>(&timer_), on_closed);
}

void UpstreamConnection::on_closed(uv_handle_t* h) {
  auto* c = static_cast<UpstreamConnection*>(h->data);
  if (--c->open_handles_ == 0) c->pool_->connection_closed(c);
}

void UpstreamConnection::on_timer(uv_timer_t* t) {
  auto* c = static_cast<UpstreamConnection*>(t->data);
  switch (c->state_) {
    case State::kConnecting: {
      bool deadline = uv_now(c->pool_->loop_) >= c->current_.deadline;
      c->complete_with_error(deadline ? UpstreamError::kTimeout : UpstreamError::kConnectTimeout,
                             "no connection to " + c->pool_->options_.host + ":" +
                                 std::to_string(c->pool_->options_.port) + " within " +
                                 std::to_string(c->pool_->options_.connect_timeout_ms) + " ms");
      c->close(UpstreamError::kConnectTimeout, "connect timeout");
      break;
    }
    case State::kBusy:
      c->complete_with_error(UpstreamError::kTimeout,
                             "no complete response within " +
                                 std::to_string(c->pool_->options_.request_timeout_ms) + " ms");
      c->close(UpstreamError::kTimeout, "request timeout");
      break;
    case State::kIdle:
      c->close(UpstreamError::kNone, "idle too long");
      break;
    case State::kClosing:
      break;
  }
}

// ---- UpstreamPool ----

UpstreamPool::UpstreamPool(uv_loop_t* loop, UpstreamOptions options)
    : loop_(loop), options_(std::move(options)) {
  uv_timer_init(loop_, &queue_timer_);
  queue_timer_.data = this;
  resolve_req_.data = this;
  address_ready_ = numeric_sockaddr(options_.host, options_.port, &address_);
}

UpstreamPool::~UpstreamPool() = default;

size_t UpstreamPool::idle_count() const {
  size_t n = 0;
  for (UpstreamConnection* c = idle_; c != nullptr; c = c->idle_next) ++n;
  return n;
}

void UpstreamPool::send(std::unique_ptr<UpstreamRequest> request) {
  submit(Pending{std::move(request), uv_now(loop_) + options_.request_timeout_ms});
}

void UpstreamPool::fail(Pending& pending, UpstreamError error, std::string detail) {
  UpstreamResponse response = UpstreamResponse::failure(error, std::move(detail));
  pending.request->on_done(response);
}

UpstreamConnection* UpstreamPool::take_idle() {
  while (idle_ != nullptr) {
    UpstreamConnection* c = idle_;
    take_idle_specific(c);
    if (c->still_open()) return c;
    ++stale_retries_;
    c->close(UpstreamError::kNone, "stale keep-alive connection (closed by upstream)");
  }
  return nullptr;
}

void UpstreamPool::take_idle_specific(UpstreamConnection* c) {
  if (!c->in_idle_list) return;
  if (c->idle_prev != nullptr)
    c->idle_prev->idle_next = c->idle_next;
  else
    idle_ = c->idle_next;
  if (c->idle_next != nullptr) c->idle_next->idle_prev = c->idle_prev;
  c->idle_prev = c->idle_next = nullptr;
  c->in_idle_list = false;
}

bool UpstreamPool::try_dispatch(Pending& pending) {
  if (UpstreamConnection* c = take_idle()) {
    c->dispatch(std::move(pending), true);
    return true;
  }
  if (!address_ready_ || connection_count_ >= options_.max_connections) return false;
  if (resolved_at_ != 0 && uv_now(loop_) - resolved_at_ > options_.dns_ttl_ms) resolve();
  auto* c = new UpstreamConnection(this);
  c->next = connections_;
  if (connections_ != nullptr) connections_->prev = c;
  connections_ = c;
  ++connection_count_;
  ++connections_opened_;
  c->connect(std::move(pending));
  return true;
}

void UpstreamPool::submit(Pending pending) {
  if (shutting_down_) {
    fail(pending, UpstreamError::kShutdown, "the sidecar is shutting down");
    return;
  }
  if (queue_.empty() && try_dispatch(pending)) return;
  queue_.push_back(std::move(pending));
  if (!address_ready_) resolve();
  arm_queue_timer();
}

void UpstreamPool::pump() {
  while (!queue_.empty() && !shutting_down_) {
    Pending next = std::move(queue_.front());
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
    Pending p = std::move(pool->queue_.front());
    pool->queue_.pop_front();
    pool->fail(p, pool->address_ready_ ? UpstreamError::kTimeout : UpstreamError::kResolveFailed,
               pool->address_ready_ ? "no upstream connection free within " +
                                          std::to_string(pool->options_.request_timeout_ms) + " ms"
                                    : "could not resolve " + pool->options_.host + " in time");
  }
  pool->arm_queue_timer();
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
      while (!pool->queue_.empty()) {
        Pending p = std::move(pool->queue_.front());
        pool->queue_.pop_front();
        pool->fail(p, UpstreamError::kResolveFailed,
                   "could not resolve " + pool->options_.host + ": " + uv_error_text(status));
      }
    }
  }
  if (res != nullptr) uv_freeaddrinfo(res);
  pool->pump();
}

void UpstreamPool::connection_idle(UpstreamConnection* c) {
  c->idle_prev = nullptr;
  c->idle_next = idle_;
  if (idle_ != nullptr) idle_->idle_prev = c;
  idle_ = c;
  c->in_idle_list = true;
  pump();
}

void UpstreamPool::connection_closed(UpstreamConnection* c) {
  take_idle_specific(c);
  if (c->prev != nullptr)
    c->prev->next = c->next;
  else
    connections_ = c->next;
  if (c->next != nullptr) c->next->prev = c->prev;
  --connection_count_;
  delete c;
  if (shutting_down_) {
    if (connection_count_ == 0 && on_closed_) {
      auto done = std::move(on_closed_);
      on_closed_ = nullptr;
      done();
    }
    return;
  }
  pump();
}

void UpstreamPool::shutdown(std::function<void()> on_closed) {
  shutting_down_ = true;
  on_closed_ = std::move(on_closed);
  while (!queue_.empty()) {
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    fail(p, UpstreamError::kShutdown, "the sidecar is shutting down");
  }
  close_handle(reinterpret_cast<uv_handle_t*>(&queue_timer_), nullptr);
  if (resolving_) uv_cancel(reinterpret_cast<uv_req_t*>(&resolve_req_));
  for (UpstreamConnection* c = connections_; c != nullptr;) {
    UpstreamConnection* next = c->next;
    c->close(UpstreamError::kShutdown, "shutdown");
    c = next;
  }
  if (connection_count_ == 0 && on_closed_) {
    auto done = std::move(on_closed_);
    on_closed_ = nullptr;
    done();
  }
}

}  // namespace streamshift
