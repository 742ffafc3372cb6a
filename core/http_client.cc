// The upstream keep-alive pool; see http_client.h for the lifecycle.
#include "core/http_client.h"

#include <llhttp.h>
#include <sys/socket.h>

#include <cstring>

#include "core/chunked_decoder.h"
#include "core/http_head_scanner.h"
#include "core/log.h"
#include "core/loop.h"

namespace streamshift {
namespace {

constexpr uint64_t kIdleConnectionTimeoutMs = 30000;

}  // namespace

std::string_view upstream_error_name(UpstreamError error) {
  switch (error) {
    case UpstreamError::kNone:
      return "none";
    case UpstreamError::kResolveFailed:
      return "resolve_failed";
    case UpstreamError::kConnectFailed:
      return "connect_failed";
    case UpstreamError::kConnectTimeout:
      return "connect_timeout";
    case UpstreamError::kTimeout:
      return "timeout";
    case UpstreamError::kClosed:
      return "upstream_closed";
    case UpstreamError::kBadResponse:
      return "bad_response";
    case UpstreamError::kResponseTooLarge:
      return "response_too_large";
    case UpstreamError::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

class UpstreamConnection {
 public:
  explicit UpstreamConnection(UpstreamPool* pool)
      : pool_(pool),
        head_(HeadScanner::Kind::kHead, pool->options_.max_response_head_bytes),
        chunked_(pool->options_.max_response_bytes, pool->options_.max_response_head_bytes) {
    tcp_.data = this;
    timer_.data = this;
    connect_req_.data = this;
    write_req_.data = this;
    llhttp_settings_init(&settings_);
    settings_.on_status = on_status;
    settings_.on_header_field = on_header_field;
    settings_.on_header_value = on_header_value;
    settings_.on_header_value_complete = on_header_value_complete;
    settings_.on_headers_complete = on_headers_complete;
    settings_.on_body = on_body;
    settings_.on_message_complete = on_message_complete;
    llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
    parser_.data = this;
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
  static int on_status(llhttp_t* p, const char* at, size_t len);
  static int on_header_field(llhttp_t* p, const char* at, size_t len);
  static int on_header_value(llhttp_t* p, const char* at, size_t len);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, size_t len);
  static int on_message_complete(llhttp_t* p);
  static UpstreamConnection* self(llhttp_t* p) { return static_cast<UpstreamConnection*>(p->data); }

  void handle_bytes(const char* data, size_t len);
  void fail_head_scan();
  void decode_chunked(const char* data, size_t len);
  void handle_eof();
  void finish(bool reusable);
  void complete_with_error(UpstreamError error, std::string detail);
  void start_timer(uint64_t ms) { uv_timer_start(&timer_, on_timer, ms, 0); }

  UpstreamPool* pool_;
  uv_tcp_t tcp_;
  uv_timer_t timer_;
  uv_connect_t connect_req_;
  uv_write_t write_req_;
  llhttp_settings_t settings_;
  llhttp_t parser_;
  State state_ = State::kConnecting;
  UpstreamPool::Pending current_;
  std::unique_ptr<UpstreamRequest> retired_;  // kept until its write completes
  UpstreamResponse response_;
  HeadScanner head_;
  ChunkedDecoder chunked_;
  std::string reason_;
  char read_buf_[16 * 1024];
  int open_handles_ = 0;
  bool writing_ = false;
  bool got_bytes_ = false;
  bool message_done_ = false;
  bool interim_ = false;
  bool oversize_ = false;
  std::string_view refusal_;   // why a callback refused the answer
  bool in_head_ = true;        // the bytes being read belong to a response head
  bool chunked_body_ = false;  // the body is decoded by chunked_, not llhttp
  bool keep_alive_ = false;    // as the final head says
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
  response_.clear();
  reason_.clear();
  got_bytes_ = message_done_ = interim_ = oversize_ = chunked_body_ = false;
  refusal_ = {};
  in_head_ = true;
  head_.reset();
  chunked_.reset();
  llhttp_reset(&parser_);
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
    c->handle_eof();
  } else if (nread < 0) {
    c->complete_with_error(UpstreamError::kClosed,
                           "read: " + uv_error_text(static_cast<int>(nread)));
    c->close(UpstreamError::kClosed, "read error");
  } else {
    c->handle_bytes(buf->base, static_cast<size_t>(nread));
  }
}

void UpstreamConnection::handle_bytes(const char* data, size_t len) {
  got_bytes_ = true;
  while (len > 0) {
    if (chunked_body_) {
      decode_chunked(data, len);
      return;
    }
    // llhttp sees head bytes only once the scanner has passed them; a head
    // is executed on its own, so an interim (1xx) answer's end restarts the
    // scan and a chunked body goes to chunked_.
    size_t n = len;
    if (in_head_) {
      HeadScanner::Result scanned = head_.scan(data, len, &n);
      if (scanned == HeadScanner::Result::kError) {
        fail_head_scan();
        return;
      }
    }
    llhttp_errno_t err = llhttp_execute(&parser_, data, n);
    if (err == HPE_PAUSED && message_done_) {
      bool trailing_bytes = llhttp_get_error_pos(&parser_) != data + len;
      finish(!trailing_bytes && llhttp_should_keep_alive(&parser_) != 0);
      return;
    }
    if (err != HPE_OK) {
      if (oversize_) {
        complete_with_error(UpstreamError::kResponseTooLarge,
                            "response body exceeds " +
                                std::to_string(pool_->options_.max_response_bytes) + " bytes");
      } else if (!refusal_.empty()) {
        complete_with_error(UpstreamError::kBadResponse, std::string(refusal_));
      } else {
        complete_with_error(UpstreamError::kBadResponse, std::string("malformed response: ") +
                                                             llhttp_errno_name(err) + ": " +
                                                             llhttp_get_error_reason(&parser_));
      }
      close(UpstreamError::kBadResponse, "bad response");
      return;
    }
    data += n;
    len -= n;
  }
}

void UpstreamConnection::decode_chunked(const char* data, size_t len) {
  size_t used = 0;
  ChunkedDecoder::Result r = chunked_.decode(data, len, &response_.body, &used);
  if (r == ChunkedDecoder::Result::kNeedMore) return;
  if (r == ChunkedDecoder::Result::kDone) {
    message_done_ = true;
    finish(used == len && keep_alive_);
    return;
  }
  bool too_large = chunked_.error() != ChunkedDecoder::Error::kInvalid;
  complete_with_error(too_large ? UpstreamError::kResponseTooLarge : UpstreamError::kBadResponse,
                      "chunked response body: " + chunked_.detail());
  close(UpstreamError::kBadResponse, "bad chunked response body");
}

void UpstreamConnection::fail_head_scan() {
  HeadScanner::Error e = head_.error();
  if (e == HeadScanner::Error::kTooLarge || e == HeadScanner::Error::kTooManyFields) {
    complete_with_error(UpstreamError::kResponseTooLarge,
                        "response head exceeds " + std::to_string(head_.max_bytes()) +
                            " bytes or " + std::to_string(head_.max_fields()) + " header fields");
  } else {
    complete_with_error(
        UpstreamError::kBadResponse,
        "malformed response: " + std::string(head_scan_error_text(e)) + " in the head");
  }
  close(UpstreamError::kBadResponse, "bad response head");
}

void UpstreamConnection::handle_eof() {
  if (got_bytes_) {
    llhttp_finish(&parser_);  // a body delimited by EOF ends here
    if (message_done_) {
      finish(false);
      return;
    }
  }
  complete_with_error(UpstreamError::kClosed,
                      got_bytes_ ? "upstream closed the connection mid-response"
                                 : "upstream closed the connection before responding");
  close(UpstreamError::kClosed, "closed by upstream");
}

void UpstreamConnection::finish(bool reusable) {
  uv_timer_stop(&timer_);
  UpstreamPool::Pending done = std::move(current_);
  state_ = State::kIdle;
  done.request->on_done(response_);
  if (writing_) {
    retired_ = std::move(done.request);  // the upstream answered before reading it all
    reusable = false;
  }
  if (state_ != State::kIdle) return;  // closed from inside the callback
  if (!reusable || pool_->shutting_down_) {
    close(UpstreamError::kNone, "not reusable");
    return;
  }
  response_.clear();
  start_timer(kIdleConnectionTimeoutMs);
  pool_->connection_idle(this);
}

void UpstreamConnection::complete_with_error(UpstreamError error, std::string detail) {
  if (!current_.request) return;
  uv_timer_stop(&timer_);
  UpstreamPool::Pending done = std::move(current_);
  response_.clear();
  response_.error = error;
  response_.detail = std::move(detail);
  done.request->on_done(response_);
  if (writing_) retired_ = std::move(done.request);
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

int UpstreamConnection::on_status(llhttp_t* p, const char* at, size_t len) {
  self(p)->reason_.append(at, len);
  return HPE_OK;
}

int UpstreamConnection::on_header_field(llhttp_t* p, const char* at, size_t len) {
  self(p)->response_.headers.append_name_fragment({at, len});
  return HPE_OK;
}

int UpstreamConnection::on_header_value(llhttp_t* p, const char* at, size_t len) {
  self(p)->response_.headers.append_value_fragment({at, len});
  return HPE_OK;
}

int UpstreamConnection::on_header_value_complete(llhttp_t* p) {
  self(p)->response_.headers.finish_value();
  return HPE_OK;
}

int UpstreamConnection::on_headers_complete(llhttp_t* p) {
  UpstreamConnection* c = self(p);
  int status = p->status_code;
  if (status < 100 || status > 599) {
    // llhttp 8.1.0 reads "HTTP/1.1 \r\n" as status 0.
    c->refusal_ = "status code not in 100-599";
    return -1;
  }
  if (status >= 100 && status < 200) {
    if (status == 101) {
      c->refusal_ = "101 Switching Protocols, but no upgrade was asked for";
      return -1;
    }
    c->interim_ = true;  // 100 Continue and friends: wait for the final answer
    return HPE_OK;
  }
  c->in_head_ = false;
  UpstreamResponse& r = c->response_;
  r.status = status;
  // llhttp 8.1.0 lets control characters (VT, FF...) through in the reason
  // phrase; such a phrase is dropped and the canonical one sent instead.
  if (is_field_text(c->reason_)) {
    r.reason_len = static_cast<uint32_t>(c->reason_.size());
    r.headers.stash(c->reason_, &r.reason_off);
  }
  if (c->current_.request && c->current_.request->is_head) {
    r.bodiless = true;
    return 1;  // no body follows, whatever Content-Length says
  }
  // Only "chunked" can be decoded: anything else would reach the client as
  // coded bytes it was not told about (the field itself is hop-by-hop).
  if (size_t te = r.headers.count("transfer-encoding");
      te > 1 || (te == 1 && !iequals(*r.headers.find("transfer-encoding"), "chunked"))) {
    c->refusal_ = "Transfer-Encoding other than exactly \"chunked\"";
    return -1;
  }
  if (status == 204 || status == 304) {
    // No body, whatever the head declares: bytes after the head are not
    // this answer's, and the connection is not reused (trailing bytes).
    r.bodiless = true;
    return 1;
  }
  if ((p->flags & F_CHUNKED) && !r.bodiless) {
    // llhttp 8.1.0 does not check the CRLF after chunk data: ChunkedDecoder
    // takes the body (handle_bytes gave llhttp the head only).
    c->chunked_body_ = true;
    c->keep_alive_ = llhttp_should_keep_alive(p) != 0;
    return HPE_OK;
  }
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > c->pool_->options_.max_response_bytes) {
    c->oversize_ = true;
    return -1;
  }
  if (p->flags & F_CONTENT_LENGTH) r.body.reserve(p->content_length);
  return HPE_OK;
}

int UpstreamConnection::on_body(llhttp_t* p, const char* at, size_t len) {
  UpstreamConnection* c = self(p);
  if (c->response_.body.size() + len > c->pool_->options_.max_response_bytes) {
    c->oversize_ = true;
    return -1;
  }
  c->response_.body.append(at, len);
  return HPE_OK;
}

int UpstreamConnection::on_message_complete(llhttp_t* p) {
  UpstreamConnection* c = self(p);
  if (c->interim_) {
    c->interim_ = false;
    c->response_.clear();
    c->reason_.clear();
    c->head_.reset();  // the final answer's head follows
    return HPE_OK;
  }
  c->message_done_ = true;
  return HPE_PAUSED;
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
  UpstreamResponse response;
  response.error = error;
  response.detail = std::move(detail);
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
