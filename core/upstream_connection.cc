// One upstream connection; see upstream_connection.h for its states.
#include "core/upstream_connection.h"

#include <algorithm>
#include <cerrno>

#include "core/log.h"
#include "core/loop.h"

namespace streamshift {
namespace {

constexpr uint64_t kIdleConnectionTimeoutMs = 30000;

}  // namespace

UpstreamConnection::UpstreamConnection(uv_loop_t* loop, const UpstreamOptions& options,
                                       Owner& owner)
    : loop_(loop),
      options_(options),
      owner_(owner),
      reader_({options.max_response_head_bytes, options.max_response_bytes}) {
  tcp_.data = this;
  timer_.data = this;
  connect_req_.data = this;
  write_req_.data = this;
}

uint64_t UpstreamConnection::ms_left() const {
  uint64_t now = uv_now(loop_);
  return current_.deadline > now ? current_.deadline - now : 1;
}

std::string UpstreamConnection::peer() const {
  return options_.host + ":" + std::to_string(options_.port);
}

void UpstreamConnection::connect(const sockaddr_storage& address, PendingRequest pending) {
  current_ = std::move(pending);
  uv_tcp_init(loop_, &tcp_);
  uv_timer_init(loop_, &timer_);
  open_handles_ = 2;
  uv_tcp_nodelay(&tcp_, 1);
  start_timer(std::min(ms_left(), options_.connect_timeout_ms));
  int rc =
      uv_tcp_connect(&connect_req_, &tcp_, reinterpret_cast<const sockaddr*>(&address), on_connect);
  if (rc != 0) close(UpstreamError::kConnectFailed, "connect: " + uv_error_text(rc));
}

void UpstreamConnection::on_connect(uv_connect_t* req, int status) {
  auto* c = static_cast<UpstreamConnection*>(req->data);
  if (c->state_ == State::kClosing) return;
  if (status != 0) {
    c->close(UpstreamError::kConnectFailed,
             "connect to " + c->peer() + ": " + uv_error_text(status));
    return;
  }
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp_), on_alloc, on_read);
  c->dispatch(std::move(c->current_), false);
}

void UpstreamConnection::dispatch(PendingRequest pending, bool reused) {
  current_ = std::move(pending);
  state_ = State::kBusy;
  reader_.reset(current_.request->is_head);
  start_timer(ms_left());
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
      PendingRequest again = std::move(current_);
      close(UpstreamError::kNone, "stale keep-alive connection (write refused)");
      owner_.resend(std::move(again));
      return;
    }
    close(UpstreamError::kClosed, "write: " + uv_error_text(error));
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
    c->close(UpstreamError::kClosed, "write: " + uv_error_text(status));
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
  } else if (nread == UV_EOF) {
    c->handle(c->reader_.eof());
  } else if (nread < 0) {
    c->close(UpstreamError::kClosed, "read: " + uv_error_text(static_cast<int>(nread)));
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
    case HttpResponseReader::Progress::kError:
      close(reader_.error().error, reader_.error().detail);
      break;
  }
}

void UpstreamConnection::finish(bool reusable) {
  uv_timer_stop(&timer_);
  state_ = State::kIdle;
  // The upstream answered before reading all of the request: not reusable.
  reusable = reusable && !writing_;
  retire(current_.complete(reader_.response()));
  if (state_ != State::kIdle) return;  // closed from inside on_done
  if (!reusable) {
    close(UpstreamError::kNone, "not reusable");
    return;
  }
  start_timer(kIdleConnectionTimeoutMs);
  owner_.connection_idle(this);
}

void UpstreamConnection::retire(std::unique_ptr<UpstreamRequest> done) {
  if (writing_) retired_ = std::move(done);
}

void UpstreamConnection::close(UpstreamError error, std::string detail) {
  if (state_ == State::kClosing) return;
  // Closing before on_done runs: a close from inside it is a no-op.
  state_ = State::kClosing;
  owner_.connection_closing(this);
  if (log_enabled(LogLevel::kDebug)) {
    log_line(LogLevel::kDebug, "upstream connection closed", {{"reason", detail}});
  }
  if (open_handles_ > 0) {
    uv_timer_stop(&timer_);
    close_handle(reinterpret_cast<uv_handle_t*>(&tcp_), on_closed);
    close_handle(reinterpret_cast<uv_handle_t*>(&timer_), on_closed);
  }
  if (error != UpstreamError::kNone) retire(current_.fail(error, std::move(detail)));
  if (open_handles_ == 0) owner_.connection_closed(this);  // never opened: freed now
}

void UpstreamConnection::on_closed(uv_handle_t* h) {
  auto* c = static_cast<UpstreamConnection*>(h->data);
  if (--c->open_handles_ == 0) c->owner_.connection_closed(c);
}

void UpstreamConnection::on_timer(uv_timer_t* t) {
  auto* c = static_cast<UpstreamConnection*>(t->data);
  switch (c->state_) {
    case State::kConnecting: {
      bool deadline = uv_now(c->loop_) >= c->current_.deadline;
      c->close(deadline ? UpstreamError::kTimeout : UpstreamError::kConnectTimeout,
               "no connection to " + c->peer() + " within " +
                   std::to_string(c->options_.connect_timeout_ms) + " ms");
      break;
    }
    case State::kBusy:
      c->close(UpstreamError::kTimeout, "no complete response within " +
                                            std::to_string(c->options_.request_timeout_ms) + " ms");
      break;
    case State::kIdle:
      c->close(UpstreamError::kNone, "idle too long");
      break;
    case State::kClosing:
      break;
  }
}

}  // namespace streamshift
