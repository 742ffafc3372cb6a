// The ingress's accepting side; see http_listener.h.
#include "core/http_listener.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "core/log.h"
#include "core/loop.h"

namespace streamshift {
namespace {

// Out of file descriptors and unable to shed the backlog: stop listening
// this long rather than spin on accept().
constexpr uint64_t kListenPauseMs = 250;
constexpr uint64_t kRefusalLogEveryMs = 1000;

int open_reserve_fd() {
  return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

}  // namespace

std::string_view refusal_name(Refusal refusal) {
  return refusal == Refusal::kMaxConnections ? "max_connections" : "accept_failed";
}

HttpListener::HttpListener(uv_loop_t* loop, const ServerOptions& options, Owner& owner)
    : loop_(loop), options_(options), owner_(owner) {
  listener_.data = this;
}

HttpListener::~HttpListener() {
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
}

int HttpListener::start() {
  int rc = listen_tcp(loop_, &listener_, options_.listen, options_.reuse_port, options_.backlog,
                      on_connection);
  listening_ = true;  // the handle is initialised either way and must be closed
  if (rc != 0) return rc;
  port_ = bound_port(&listener_);
  sockaddr_storage addr;
  int len = sizeof addr;
  char ip[64] = "";
  if (uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    uv_ip_name(reinterpret_cast<sockaddr*>(&addr), ip, sizeof ip);
  bound_ = HostPort{ip, port_};
  reserve_fd_ = open_reserve_fd();
  uv_timer_init(loop_, &resume_timer_);
  resume_timer_.data = this;
  timer_open_ = true;
  return 0;
}

void HttpListener::on_connection(uv_stream_t* listener, int status) {
  auto* self = static_cast<HttpListener*>(listener->data);
  if (status < 0) {
    self->accept_failed(status);
    return;
  }
  SharedBudget* budget = self->options_.connections;
  if (budget != nullptr && !budget->try_take(1)) {
    self->refuse(listener);
    return;
  }
  self->owner_.on_acceptable(listener);
}

// Over the connection cap: accepted and closed at once (the client sees
// its connection end, not a timeout), counted, logged at most once a second.
// Counted first: uv_close closes the socket at once, and a client that saw
// its connection end must find it counted.
void HttpListener::refuse(uv_stream_t* listener) {
  note_refusal(Refusal::kMaxConnections, 0);
  auto* tcp = new uv_tcp_t;
  uv_tcp_init(loop_, tcp);
  uv_accept(listener, reinterpret_cast<uv_stream_t*>(tcp));
  uv_close(reinterpret_cast<uv_handle_t*>(tcp),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
}

void HttpListener::note_refusal(Refusal why, int status) {
  if (options_.observer != nullptr) options_.observer->on_refused(why);
  ++refusals_unlogged_;
  uint64_t now = uv_now(loop_);
  if (now - last_refusal_log_ms_ < kRefusalLogEveryMs && last_refusal_log_ms_ != 0) return;
  last_refusal_log_ms_ = now;
  log_line(LogLevel::kWarn, "connections refused",
           {{"reason", refusal_name(why)},
            {"error", status != 0 ? uv_error_text(status) : std::string("over the limit")},
            {"since_last_line", refusals_unlogged_},
            {"open", options_.connections != nullptr ? options_.connections->in_use() : 0}});
  refusals_unlogged_ = 0;
}

// libuv sheds the backlog itself with its own reserve fd; when we are told
// about EMFILE, that did not work (another thread took the freed fd) and
// libuv will call us again at once while connections wait. Shed them with
// our own reserve, or stop listening for a moment rather than spin.
void HttpListener::accept_failed(int status) {
  note_refusal(Refusal::kAcceptFailed, status);
  if (status != UV_EMFILE && status != UV_ENFILE) return;
  if (!shed_backlog()) pause_listening();
}

bool HttpListener::shed_backlog() {
  if (reserve_fd_ < 0 || !listening_) return false;
  ::close(reserve_fd_);
  reserve_fd_ = -1;
  uv_os_fd_t listen_fd;
  bool drained = false;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&listener_), &listen_fd) == 0) {
    for (;;) {
      int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd >= 0) {
        ::close(fd);
      } else if (errno != EINTR) {
        drained = errno == EAGAIN || errno == EWOULDBLOCK;
        break;
      }
    }
  }
  reserve_fd_ = open_reserve_fd();
  return drained;
}

void HttpListener::pause_listening() {
  if (!listening_ || closing_ || !timer_open_) return;
  log_line(LogLevel::kWarn, "out of file descriptors: not accepting for a moment",
           {{"pause_ms", kListenPauseMs}});
  close_listening_handle();
  uv_timer_start(&resume_timer_, on_resume, kListenPauseMs, 0);
}

void HttpListener::on_resume(uv_timer_t* timer) {
  auto* self = static_cast<HttpListener*>(timer->data);
  if (self->closing_ || self->listening_) return;
  int rc = listen_tcp(self->loop_, &self->listener_, self->bound_, self->options_.reuse_port,
                      self->options_.backlog, on_connection);
  self->listening_ = true;  // initialised: closed through close_listening_handle either way
  if (rc != 0) {
    log_line(LogLevel::kWarn, "cannot listen again yet", {{"error", uv_error_text(rc)}});
    self->close_listening_handle();
    uv_timer_start(&self->resume_timer_, on_resume, kListenPauseMs, 0);
  }
}

void HttpListener::close_listening_handle() {
  if (!listening_ || listener_closing_) return;
  listener_closing_ = true;
  close_handle(reinterpret_cast<uv_handle_t*>(&listener_), [](uv_handle_t* h) {
    auto* self = static_cast<HttpListener*>(h->data);
    self->listening_ = false;
    self->listener_closing_ = false;
    self->handle_closed();
  });
}

void HttpListener::close() {
  if (closing_) return;
  closing_ = true;
  close_listening_handle();
  if (timer_open_) {
    close_handle(reinterpret_cast<uv_handle_t*>(&resume_timer_), [](uv_handle_t* h) {
      auto* self = static_cast<HttpListener*>(h->data);
      self->timer_open_ = false;
      self->handle_closed();
    });
  }
  if (reserve_fd_ >= 0) {
    ::close(reserve_fd_);
    reserve_fd_ = -1;
  }
}

void HttpListener::handle_closed() {
  if (closing_ && closed()) owner_.on_listener_closed();
}

}  // namespace streamshift
