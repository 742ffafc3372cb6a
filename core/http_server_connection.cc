// One client connection of the ingress; see http_server_connection.h.
#include "core/http_server_connection.h"

#include "core/http_server.h"
#include "core/json.h"
#include "core/log.h"
#include "core/loop.h"

namespace streamshift {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
// Above this many bytes queued toward a slow client, pipelined requests wait.
constexpr size_t kWriteHighWater = 1024 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// After an error answer: how long, and how many bytes of the rest of the
// request, to read and drop before closing (see linger()).
constexpr uint64_t kLingerMs = 2000;
constexpr size_t kLingerMaxBytes = 8 * 1024 * 1024;

}  // namespace

ServerConnection::ServerConnection(HttpServer* server)
    : server_(server),
      reader_(server->options_.limits),
      exchange_(this),
      writer_(reinterpret_cast<uv_stream_t*>(&tcp_), on_written, this),
      in_(kReadChunk) {
  tcp_.data = this;
  timer_.data = this;
}

int ServerConnection::accept(uv_stream_t* listener) {
  uv_loop_t* loop = server_->loop_;
  uv_tcp_init(loop, &tcp_);
  uv_timer_init(loop, &timer_);
  open_handles_ = 2;
  int rc = uv_accept(listener, reinterpret_cast<uv_stream_t*>(&tcp_));
  if (rc != 0) return rc;
  uv_tcp_nodelay(&tcp_, 1);
  client_ip_ = peer_ip(&tcp_);
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
  HttpServer* server = server_;
  server->connection_closed(this);
  delete this;
}

void ServerConnection::drain() {
  if (idle()) close("draining");
}

void ServerConnection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  *buf = static_cast<ServerConnection*>(h->data)->in_.prepare();
}

void ServerConnection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
  auto* c = static_cast<ServerConnection*>(s->data);
  if (nread == 0 || c->closing_) return;
  if (c->lingering_) {
    c->discard(nread);
    return;
  }
  if (nread < 0) {
    if (nread != UV_EOF) {
      c->close("read error: " + uv_error_text(static_cast<int>(nread)));
    } else if (c->handling_ || c->writer_.in_flight() > 0) {
      c->client_eof_ = true;  // half-close: answer, then close
      c->pause_reading();
    } else {
      c->close(c->reader_.started() || !c->in_.empty() ? "client closed mid-request"
                                                       : "client closed");
    }
    return;
  }
  c->in_.commit(static_cast<size_t>(nread));
  if (c->handling_) {
    // Pipelined bytes wait for the current answer; bound what we buffer.
    size_t limit = c->server_->options_.limits.max_header_bytes + kReadChunk;
    if (c->in_.size() > limit) c->pause_reading();
    return;
  }
  c->process_input();
}

void ServerConnection::process_input() {
  if (processing_) return;
  processing_ = true;
  while (!closing_ && !handling_ && !close_after_write_) {
    if (writer_.queued_bytes() > kWriteHighWater) {
      pause_reading();  // on_written resumes
      break;
    }
    size_t used = 0;
    auto progress = reader_.consume(in_.data(), in_.size(), &used);
    in_.consume(used);
    if (progress != HttpRequestReader::Progress::kError && !take_body_share()) {
      FramingError e;
      e.status = 503;
      e.code = "overloaded";
      e.detail = "request bodies in flight hold the whole body budget; try again";
      reject(e);
      break;
    }
    if (progress == HttpRequestReader::Progress::kNeedMore) {
      if (reader_.take_continue()) send(nullptr, false);
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
  linger_after_write_ = true;
  send(&r, true);
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
  send(&response, close_after);
  if (!close_after) process_input();
}

void ServerConnection::send(Response* response, bool close_after) {
  if (close_after) {
    close_after_write_ = true;
    pause_reading();
  }
  int rc = response != nullptr ? writer_.write(*response, close_after)
                               : writer_.write_constant(kContinue);
  if (rc != 0) {
    close("write failed: " + uv_error_text(rc));
  } else if (close_after && writer_.in_flight() == 0) {
    finish_after_answer();
  }
}

void ServerConnection::finish_after_answer() {
  if (linger_after_write_ && !client_eof_) {
    linger();
  } else {
    close(client_eof_ ? "client half-closed" : "answered with Connection: close");
  }
}

// An error answer can come while the client is still sending the request
// (a body over a limit or the budget). Closing with unread bytes makes the
// kernel reset the connection, and a reset can destroy the answer before
// the client reads it. So, as nginx's lingering close does: send FIN after
// the answer, read and drop what still comes, and close on the client's
// EOF, or after kLingerMs or kLingerMaxBytes, whichever comes first.
void ServerConnection::linger() {
  lingering_ = true;
  uv_shutdown(&shutdown_req_, reinterpret_cast<uv_stream_t*>(&tcp_), [](uv_shutdown_t*, int) {});
  arm_timer(TimerMode::kLinger);
  reading_ = true;
  int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read);
  if (rc != 0) close("lingering close: " + uv_error_text(rc));
}

void ServerConnection::discard(ssize_t nread) {
  if (nread < 0) {
    close(nread == UV_EOF ? "answered an error; the client closed" : "answered an error");
    return;
  }
  in_.commit(static_cast<size_t>(nread));
  in_.consume(in_.size());
  lingered_bytes_ += static_cast<size_t>(nread);
  if (lingered_bytes_ > kLingerMaxBytes) close("answered an error; the client kept sending");
}

void ServerConnection::on_written(void* self, int status) {
  auto* c = static_cast<ServerConnection*>(self);
  if (c->closing_) return;
  if (status < 0) {
    c->close("write failed: " + uv_error_text(status));
  } else if (c->writer_.in_flight() == 0 && (c->close_after_write_ || c->client_eof_)) {
    c->finish_after_answer();
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
    case TimerMode::kLinger:
      uv_timer_start(&timer_, on_timer, kLingerMs, 0);
      break;
  }
}

void ServerConnection::on_timer(uv_timer_t* t) {
  auto* c = static_cast<ServerConnection*>(t->data);
  TimerMode mode = c->timer_mode_;
  c->timer_mode_ = TimerMode::kNone;
  if (mode == TimerMode::kIdle) {
    c->close("idle timeout");
  } else if (mode == TimerMode::kLinger) {
    c->close("answered an error; lingering close timed out");
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

}  // namespace streamshift
