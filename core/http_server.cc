// The ingress HTTP/1.1 server; see http_server.h for the request lifecycle.
#include "core/http_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/json.h"
#include "core/log.h"
#include "core/loop.h"

namespace streamshift {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
// Above this many bytes queued toward a slow client, pipelined requests wait.
constexpr size_t kWriteHighWater = 1024 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
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

class ServerConnection {
 public:
  explicit ServerConnection(HttpServer* server)
      : server_(server), reader_(server->options_.limits), exchange_(this) {
    tcp_.data = this;
    timer_.data = this;
  }

  int accept(uv_stream_t* listener);
  void close(std::string_view reason);
  void drain();
  void respond(Response&& response);

  HttpRequest& request() { return reader_.request(); }
  const std::string& client_ip() const { return client_ip_; }
  bool closing() const { return closing_; }

  ServerConnection* prev = nullptr;
  ServerConnection* next = nullptr;

 private:
  struct WriteReq {
    uv_write_t req;
    ServerConnection* connection;
    std::string head;
    std::string body;
  };
  enum class TimerMode { kNone, kIdle, kClient };

  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_timer(uv_timer_t* t);
  static void on_handle_closed(uv_handle_t* h);

  void process_input();
  bool take_body_share();
  void give_back_body_share();
  void reject(const FramingError& error);
  void write(std::string_view static_head, Response* response, bool close_after);
  void arm_timer(TimerMode mode);
  void pause_reading();
  void resume_reading();
  void maybe_free();
  bool idle() const {
    return !handling_ && !reader_.started() && in_start_ == in_end_ && writes_in_flight_ == 0;
  }

  HttpServer* server_;
  uv_tcp_t tcp_;
  uv_timer_t timer_;
  HttpRequestReader reader_;
  Exchange exchange_;
  std::string client_ip_;
  std::vector<char> in_;
  size_t in_start_ = 0, in_end_ = 0;
  uint64_t request_started_ns_ = 0;
  size_t body_share_ = 0;  // bytes of the body budget this request holds
  std::vector<WriteReq*> spare_writes_;
  size_t writes_in_flight_ = 0;
  int open_handles_ = 0;
  TimerMode timer_mode_ = TimerMode::kNone;
  bool handling_ = false;
  bool closing_ = false;
  bool close_after_write_ = false;
  bool client_eof_ = false;
  bool reading_ = false;
  bool processing_ = false;
};

// ---- Exchange ----

HttpRequest& Exchange::request() {
  return connection_->request();
}
const std::string& Exchange::client_ip() const {
  return connection_->client_ip();
}
bool Exchange::client_gone() const {
  return connection_->closing();
}
void Exchange::respond(Response response) {
  connection_->respond(std::move(response));
}

void Exchange::respond_json(int status, std::string body, std::string_view extra_headers) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.extra_headers = extra_headers;
  r.body = std::move(body);
  respond(std::move(r));
}

// ---- ServerConnection ----

int ServerConnection::accept(uv_stream_t* listener) {
  uv_loop_t* loop = server_->loop_;
  uv_tcp_init(loop, &tcp_);
  uv_timer_init(loop, &timer_);
  open_handles_ = 2;
  int rc = uv_accept(listener, reinterpret_cast<uv_stream_t*>(&tcp_));
  if (rc != 0) return rc;
  uv_tcp_nodelay(&tcp_, 1);
  client_ip_ = peer_ip(&tcp_);
  in_.resize(kReadChunk);
  resume_reading();
  arm_timer(TimerMode::kIdle);
  return 0;
}

void ServerConnection::close(std::string_view reason) {
  if (closing_) return;
  closing_ = true;
  if (log_enabled(LogLevel::kDebug)) {
    log_line(LogLevel::kDebug, "connection closed", {{"reason", reason}, {"client", client_ip_}});
  }
  uv_timer_stop(&timer_);
  close_handle(reinterpret_cast<uv_handle_t*>(&tcp_), on_handle_closed);
  close_handle(reinterpret_cast<uv_handle_t*>(&timer_), on_handle_closed);
}

void ServerConnection::on_handle_closed(uv_handle_t* h) {
  auto* c = static_cast<ServerConnection*>(h->data);
  --c->open_handles_;
  c->maybe_free();
}

void ServerConnection::maybe_free() {
  if (open_handles_ > 0 || handling_) return;
  give_back_body_share();
  for (WriteReq* w : spare_writes_) delete w;
  spare_writes_.clear();
  HttpServer* server = server_;
  server->connection_closed(this);
  delete this;
}

void ServerConnection::drain() {
  if (idle()) close("draining");
}

void ServerConnection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* c = static_cast<ServerConnection*>(h->data);
  if (c->in_start_ == c->in_end_) c->in_start_ = c->in_end_ = 0;
  if (c->in_.size() - c->in_end_ < kReadChunk / 4) {
    if (c->in_start_ > 0) {
      std::memmove(c->in_.data(), c->in_.data() + c->in_start_, c->in_end_ - c->in_start_);
      c->in_end_ -= c->in_start_;
      c->in_start_ = 0;
    }
    if (c->in_.size() - c->in_end_ < kReadChunk / 4) c->in_.resize(c->in_.size() * 2);
  }
  buf->base = c->in_.data() + c->in_end_;
  buf->len = c->in_.size() - c->in_end_;
}

void ServerConnection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
  auto* c = static_cast<ServerConnection*>(s->data);
  if (nread == 0 || c->closing_) return;
  if (nread < 0) {
    if (nread != UV_EOF) {
      c->close("read error: " + uv_error_text(static_cast<int>(nread)));
    } else if (c->handling_ || c->writes_in_flight_ > 0) {
      c->client_eof_ = true;  // half-close: answer, then close
      c->pause_reading();
    } else {
      c->close(c->reader_.started() || c->in_start_ < c->in_end_ ? "client closed mid-request"
                                                                 : "client closed");
    }
    return;
  }
  c->in_end_ += static_cast<size_t>(nread);
  if (c->handling_) {
    // Pipelined bytes wait for the current answer; bound what we buffer.
    size_t limit = c->server_->options_.limits.max_header_bytes + kReadChunk;
    if (c->in_end_ - c->in_start_ > limit) c->pause_reading();
    return;
  }
  c->process_input();
}

void ServerConnection::process_input() {
  if (processing_) return;
  processing_ = true;
  while (!closing_ && !handling_ && !close_after_write_) {
    if (uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&tcp_)) > kWriteHighWater) {
      pause_reading();  // on_write resumes
      break;
    }
    size_t used = 0;
    auto progress = reader_.consume(in_.data() + in_start_, in_end_ - in_start_, &used);
    in_start_ += used;
    if (progress != HttpRequestReader::Progress::kError && !take_body_share()) {
      FramingError e;
      e.status = 503;
      e.code = "overloaded";
      e.detail = "request bodies in flight hold the whole body budget; try again";
      reject(e);
      break;
    }
    if (progress == HttpRequestReader::Progress::kNeedMore) {
      if (reader_.take_continue()) write(kContinue, nullptr, false);
      if (server_->draining_ && idle()) {
        close("draining");
        break;
      }
      arm_timer(reader_.started() ? TimerMode::kClient : TimerMode::kIdle);
      resume_reading();
      break;
    }
    if (progress == HttpRequestReader::Progress::kError) {
      reject(reader_.error());
      break;
    }
    arm_timer(TimerMode::kNone);
    handling_ = true;
    if (server_->options_.observer != nullptr) request_started_ns_ = uv_hrtime();
    server_->handler_.on_request(exchange_);
  }
  processing_ = false;
}

// The body read so far takes its bytes from the budget every worker shares.
bool ServerConnection::take_body_share() {
  SharedBudget* budget = server_->options_.body_bytes;
  size_t body = reader_.request().body.size();
  if (budget == nullptr || body <= body_share_) return true;
  if (!budget->try_take(body - body_share_)) return false;
  body_share_ = body;
  return true;
}

void ServerConnection::give_back_body_share() {
  if (body_share_ == 0) return;
  server_->options_.body_bytes->give_back(body_share_);
  body_share_ = 0;
}

void ServerConnection::reject(const FramingError& error) {
  log_line(LogLevel::kWarn, "request rejected",
           {{"status", error.status},
            {"error", error.code},
            {"detail", error.detail},
            {"client", client_ip_}});
  Response r;
  r.status = error.status;
  r.content_type = "application/json";
  r.body = json_error_body(error.code, error.detail);
  arm_timer(TimerMode::kNone);
  pause_reading();
  if (server_->options_.observer != nullptr)
    server_->options_.observer->on_response(error.status, 0);
  write({}, &r, true);
}

void ServerConnection::respond(Response&& response) {
  if (!handling_) {
    log_line(LogLevel::kError, "respond() without a request in progress");
    return;
  }
  handling_ = false;
  if (closing_) {
    reader_.next();
    maybe_free();
    return;
  }
  bool close_after = !reader_.request().keep_alive || server_->draining_ || client_eof_;
  // An answer to HEAD has no body, whoever wrote it (the upstream's passes
  // its Content-Length through; ours say how long the body would be).
  if (reader_.request().method == "HEAD" && !response.bodiless) {
    response.extra_headers_owned = std::string(response.extra_headers) +
                                   "Content-Length: " + std::to_string(response.body.size()) +
                                   "\r\n";
    response.extra_headers = response.extra_headers_owned;
    response.bodiless = true;
    response.body.clear();
  }
  if (RequestObserver* o = server_->options_.observer) {
    o->on_response(response.status, static_cast<double>(uv_hrtime() - request_started_ns_) / 1e9);
  }
  reader_.next();
  give_back_body_share();
  write({}, &response, close_after);
  if (!close_after) process_input();
}

void ServerConnection::write(std::string_view static_head, Response* response, bool close_after) {
  WriteReq* w;
  if (spare_writes_.empty()) {
    w = new WriteReq;
    w->connection = this;
  } else {
    w = spare_writes_.back();
    spare_writes_.pop_back();
  }
  uv_buf_t bufs[2];
  unsigned nbufs = 1;
  if (response == nullptr) {
    bufs[0] = uv_buf_init(const_cast<char*>(static_head.data()), static_head.size());
  } else {
    w->head.clear();
    std::string_view reason =
        response->reason.empty() ? status_reason(response->status) : response->reason;
    serialize_response_head(w->head, response->status, reason, response->headers,
                            response->content_type, response->body.size(), response->bodiless,
                            close_after, response->extra_headers);
    w->body = std::move(response->body);
    bufs[0] = uv_buf_init(w->head.data(), w->head.size());
    if (!response->bodiless && !w->body.empty()) {
      bufs[1] = uv_buf_init(w->body.data(), w->body.size());
      nbufs = 2;
    }
  }
  if (close_after) {
    close_after_write_ = true;
    pause_reading();
  }
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  uv_buf_t* pending = bufs;
  int error = 0;
  if (uv_stream_get_write_queue_size(stream) == 0 &&
      try_write_all(stream, pending, nbufs, &error)) {
    w->body.clear();
    spare_writes_.push_back(w);
    if (close_after) close("answered with Connection: close");
    return;
  }
  int rc = error != 0 ? error : uv_write(&w->req, stream, pending, nbufs, on_write);
  if (rc != 0) {
    w->body.clear();
    spare_writes_.push_back(w);
    close("write failed: " + uv_error_text(rc));
    return;
  }
  ++writes_in_flight_;
}

void ServerConnection::on_write(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<WriteReq*>(req);
  ServerConnection* c = w->connection;
  --c->writes_in_flight_;
  w->body.clear();
  c->spare_writes_.push_back(w);
  if (c->closing_) return;
  if (status < 0) {
    c->close("write failed: " + uv_error_text(status));
  } else if (c->writes_in_flight_ == 0 && (c->close_after_write_ || c->client_eof_)) {
    c->close(c->client_eof_ ? "client half-closed" : "answered with Connection: close");
  } else if (!c->handling_) {
    c->process_input();
  }
}

void ServerConnection::arm_timer(TimerMode mode) {
  if (mode == timer_mode_) return;
  timer_mode_ = mode;
  switch (mode) {
    case TimerMode::kNone:
      uv_timer_stop(&timer_);
      break;
    case TimerMode::kIdle:
      uv_timer_start(&timer_, on_timer, server_->options_.idle_timeout_ms, 0);
      break;
    case TimerMode::kClient:
      uv_timer_start(&timer_, on_timer, server_->options_.client_timeout_ms, 0);
      break;
  }
}

void ServerConnection::on_timer(uv_timer_t* t) {
  auto* c = static_cast<ServerConnection*>(t->data);
  TimerMode mode = c->timer_mode_;
  c->timer_mode_ = TimerMode::kNone;
  if (mode == TimerMode::kIdle) {
    c->close("idle timeout");
  } else if (mode == TimerMode::kClient) {
    FramingError e;
    e.status = 408;
    e.code = "client_timeout";
    e.detail = "request not received within " +
               std::to_string(c->server_->options_.client_timeout_ms) + " ms";
    c->reject(e);
  }
}

void ServerConnection::pause_reading() {
  if (!reading_) return;
  reading_ = false;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
}

void ServerConnection::resume_reading() {
  if (reading_ || closing_ || client_eof_ || close_after_write_) return;
  reading_ = true;
  uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read);
}

// ---- HttpServer ----

HttpServer::HttpServer(uv_loop_t* loop, ServerOptions options, RequestHandler& handler)
    : loop_(loop), options_(std::move(options)), handler_(handler) {
  listener_.data = this;
}

HttpServer::~HttpServer() {
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
}

int HttpServer::start() {
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

void HttpServer::on_connection(uv_stream_t* listener, int status) {
  auto* server = static_cast<HttpServer*>(listener->data);
  if (status < 0) {
    server->accept_failed(status);
    return;
  }
  SharedBudget* budget = server->options_.connections;
  if (budget != nullptr && !budget->try_take(1)) {
    server->refuse(listener, Refusal::kMaxConnections);
    return;
  }
  auto* c = new ServerConnection(server);
  c->next = server->connections_;
  if (server->connections_ != nullptr) server->connections_->prev = c;
  server->connections_ = c;
  ++server->connection_count_;
  int rc = c->accept(listener);
  if (rc != 0) c->close("accept failed: " + uv_error_text(rc));
}

// Over the connection cap: accepted and closed at once (the client sees
// its connection end, not a timeout), counted, logged at most once a second.
void HttpServer::refuse(uv_stream_t* listener, Refusal why) {
  auto* tcp = new uv_tcp_t;
  uv_tcp_init(loop_, tcp);
  uv_accept(listener, reinterpret_cast<uv_stream_t*>(tcp));
  uv_close(reinterpret_cast<uv_handle_t*>(tcp),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
  note_refusal(why, 0);
}

void HttpServer::note_refusal(Refusal why, int status) {
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
void HttpServer::accept_failed(int status) {
  note_refusal(Refusal::kAcceptFailed, status);
  if (status != UV_EMFILE && status != UV_ENFILE) return;
  if (!shed_backlog()) pause_listening();
}

bool HttpServer::shed_backlog() {
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

void HttpServer::pause_listening() {
  if (!listening_ || draining_ || !timer_open_) return;
  log_line(LogLevel::kWarn, "out of file descriptors: not accepting for a moment",
           {{"pause_ms", kListenPauseMs}});
  close_listener();
  uv_timer_start(&resume_timer_, on_resume, kListenPauseMs, 0);
}

void HttpServer::on_resume(uv_timer_t* timer) {
  auto* self = static_cast<HttpServer*>(timer->data);
  if (self->draining_ || self->listening_) return;
  int rc = listen_tcp(self->loop_, &self->listener_, self->bound_, self->options_.reuse_port,
                      self->options_.backlog, on_connection);
  self->listening_ = true;  // initialised: closed through close_listener either way
  if (rc != 0) {
    log_line(LogLevel::kWarn, "cannot listen again yet", {{"error", uv_error_text(rc)}});
    self->close_listener();
    uv_timer_start(&self->resume_timer_, on_resume, kListenPauseMs, 0);
  }
}

void HttpServer::close_listener() {
  if (!listening_ || listener_closing_) return;
  listener_closing_ = true;
  close_handle(reinterpret_cast<uv_handle_t*>(&listener_), [](uv_handle_t* h) {
    auto* server = static_cast<HttpServer*>(h->data);
    server->listening_ = false;
    server->listener_closing_ = false;
    server->check_drained();
  });
}

void HttpServer::connection_closed(ServerConnection* c) {
  if (options_.connections != nullptr) options_.connections->give_back(1);
  if (c->prev != nullptr)
    c->prev->next = c->next;
  else
    connections_ = c->next;
  if (c->next != nullptr) c->next->prev = c->prev;
  --connection_count_;
  check_drained();
}

void HttpServer::drain(std::function<void()> on_drained) {
  draining_ = true;
  on_drained_ = std::move(on_drained);
  close_listener();
  if (timer_open_) {
    close_handle(reinterpret_cast<uv_handle_t*>(&resume_timer_), [](uv_handle_t* h) {
      auto* server = static_cast<HttpServer*>(h->data);
      server->timer_open_ = false;
      server->check_drained();
    });
  }
  if (reserve_fd_ >= 0) {
    ::close(reserve_fd_);
    reserve_fd_ = -1;
  }
  for (ServerConnection* c = connections_; c != nullptr;) {
    ServerConnection* next = c->next;
    c->drain();
    c = next;
  }
  check_drained();
}

void HttpServer::close_all(std::string_view reason) {
  for (ServerConnection* c = connections_; c != nullptr;) {
    ServerConnection* next = c->next;
    c->close(reason);
    c = next;
  }
}

void HttpServer::check_drained() {
  if (draining_ && !listening_ && !timer_open_ && connection_count_ == 0 && on_drained_) {
    auto done = std::move(on_drained_);
    on_drained_ = nullptr;
    done();
  }
}

}  // namespace streamshift
