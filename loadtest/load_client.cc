// The load generator's connections and pacing; see load_client.h.
#include "loadtest/load_client.h"

#include <llhttp.h>
#include <poll.h>
#include <sys/prctl.h>

#include <algorithm>

#include "core/log.h"
#include "core/loop.h"

namespace streamshift {

// One keep-alive connection: connect, write a request, parse its answer,
// repeat. On any failure the connection is closed and opened again.
class LoadConnection {
 public:
  explicit LoadConnection(LoadClient* client) : client_(client) {
    llhttp_settings_init(&settings_);
    settings_.on_message_complete = on_message_complete;
    llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
    parser_.data = this;
  }

  void connect() {
    uv_tcp_init(client_->loop_, &tcp_);
    tcp_.data = this;
    open_ = true;
    sockaddr_storage addr{};
    if (uv_ip4_addr(client_->options_.target.host.c_str(), client_->options_.target.port,
                    reinterpret_cast<sockaddr_in*>(&addr)) != 0) {
      uv_ip6_addr(client_->options_.target.host.c_str(), client_->options_.target.port,
                  reinterpret_cast<sockaddr_in6*>(&addr));
    }
    connect_req_.data = this;
    int rc = uv_tcp_connect(&connect_req_, &tcp_, reinterpret_cast<sockaddr*>(&addr), on_connect);
    if (rc != 0) fail();
  }

  void send(uint64_t seq, uint64_t due_ns, std::string request) {
    seq_ = seq;
    due_ns_ = due_ns;
    sent_ns_ = uv_hrtime();
    busy_ = true;
    request_ = std::move(request);
    llhttp_reset(&parser_);
    uv_buf_t buf = uv_buf_init(request_.data(), request_.size());
    uv_buf_t* unsent = &buf;
    unsigned nbufs = 1;
    int error = 0;
    auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
    if (!try_write_all(stream, unsent, nbufs, &error) && error == 0) {
      write_req_.data = this;
      error = uv_write(&write_req_, stream, unsent, nbufs, on_write);
      write_pending_ = error == 0;
    }
    if (error != 0) fail();
  }

  /// Closes for good (end of run).
  void close_final() {
    final_ = true;
    if (open_) {
      open_ = false;
      uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_closed);
    }
  }

  bool busy() const { return busy_; }
  bool ready() const { return connected_ && !busy_; }
  uint64_t seq() const { return seq_; }
  uint64_t due_ns() const { return due_ns_; }
  uint64_t sent_ns() const { return sent_ns_; }
  void fail() {
    if (busy_) {
      busy_ = false;
      client_->completed(*this, OutcomeLog::kFailed, true);
    } else {
      // An idle connection the target closed: off the free list, or it
      // would be there twice once it reconnects (two requests at once on
      // one connection).
      client_->connection_lost(this);
    }
    free_after_write_ = false;
    connected_ = false;
    if (open_) {
      open_ = false;
      uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_closed);
    }
  }

 private:
  static void on_connect(uv_connect_t* req, int status) {
    auto* c = static_cast<LoadConnection*>(req->data);
    if (status != 0) {
      if (status != UV_ECANCELED) c->fail();
      return;
    }
    uv_tcp_nodelay(&c->tcp_, 1);
    c->connected_ = true;
    uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp_), on_alloc, on_read);
    c->client_->connection_free(c);
  }
  static void on_write(uv_write_t* req, int status) {
    auto* c = static_cast<LoadConnection*>(req->data);
    c->write_pending_ = false;
    if (status == UV_ECANCELED) return;  // closed meanwhile
    if (status != 0) {
      c->fail();
      return;
    }
    if (c->free_after_write_) {
      c->free_after_write_ = false;
      c->client_->connection_free(c);
    }
  }
  static void on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
    auto* c = static_cast<LoadConnection*>(h->data);
    *buf = uv_buf_init(c->read_buf_, sizeof c->read_buf_);
  }
  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
    auto* c = static_cast<LoadConnection*>(s->data);
    if (n < 0) {
      c->fail();
      return;
    }
    if (n == 0) return;
    if (!c->busy_) {  // bytes nobody asked for
      c->fail();
      return;
    }
    c->answered_ = false;
    llhttp_errno_t err = llhttp_execute(&c->parser_, buf->base, static_cast<size_t>(n));
    if (!c->answered_) {
      if (err != HPE_OK) c->fail();
      return;
    }
    // Answered (the parser paused at the end of the message): account for
    // it outside the parser's callback, then reuse or reopen the connection.
    c->busy_ = false;
    c->client_->completed(*c, c->status_, false);
    if (!c->keep_alive_) {
      c->fail();
      return;
    }
    // The answer can come in the loop turn in which the rest of the
    // request was written, before the write's callback: write_req_ is
    // still libuv's until then, so the next request waits for it.
    if (c->write_pending_) {
      c->free_after_write_ = true;
      return;
    }
    c->client_->connection_free(c);
  }
  static int on_message_complete(llhttp_t* p) {
    auto* c = static_cast<LoadConnection*>(p->data);
    c->answered_ = true;
    c->status_ = p->status_code;
    c->keep_alive_ = llhttp_should_keep_alive(p) != 0;
    return HPE_PAUSED;
  }
  static void on_closed(uv_handle_t* h) {
    auto* c = static_cast<LoadConnection*>(h->data);
    if (c->final_ || c->client_->stopping_) return;
    c->connect();  // reconnect
  }

  LoadClient* client_;
  uv_tcp_t tcp_;
  uv_connect_t connect_req_;
  uv_write_t write_req_;
  llhttp_t parser_;
  llhttp_settings_t settings_;
  std::string request_;
  char read_buf_[16384];
  uint64_t seq_ = 0;
  uint64_t due_ns_ = 0;
  uint64_t sent_ns_ = 0;
  bool open_ = false;
  bool connected_ = false;
  bool busy_ = false;
  bool final_ = false;
  bool answered_ = false;
  bool keep_alive_ = true;
  bool write_pending_ = false;     // write_req_ is in libuv's hands
  bool free_after_write_ = false;  // answered before the write's callback
  int status_ = 0;
};

LoadClient::LoadClient(uv_loop_t* loop, LoadOptions options, Workload& workload)
    : loop_(loop), options_(std::move(options)), workload_(workload) {}

LoadClient::~LoadClient() = default;

void LoadClient::run() {
  // Wake-ups to the microsecond: the default 50 us timer slack would be
  // charged to every request as latency.
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  start_ns_ = uv_hrtime();
  measure_from_ns_ = start_ns_ + options_.warmup_ms * 1000000;
  end_ns_ = measure_from_ns_ + options_.duration_ms * 1000000;
  for (size_t i = 0; i < options_.connections; ++i) {
    connections_.push_back(std::make_unique<LoadConnection>(this));
    connections_.back()->connect();
  }
  // libuv's timers have millisecond resolution, too coarse to pace 10k
  // requests/s: wait on the loop's epoll fd with ppoll until the next
  // request is due (at most 1 ms), then let libuv handle what is ready.
  pollfd backend{uv_backend_fd(loop_), POLLIN, 0};
  while (!stopping_) {
    tick();
    if (stopping_) break;
    uint64_t now = uv_hrtime();
    uint64_t wait_ns = 1000000;
    if (options_.rate > 0) {
      uint64_t next = due_time(issued_);
      wait_ns = next > now ? std::min<uint64_t>(next - now, wait_ns) : 0;
    }
    timespec ts{static_cast<time_t>(wait_ns / 1000000000), static_cast<long>(wait_ns % 1000000000)};
    ppoll(&backend, 1, &ts, nullptr);
    uv_run(loop_, UV_RUN_NOWAIT);
  }
  uv_run(loop_, UV_RUN_DEFAULT);  // the connections' close callbacks
}

uint64_t LoadClient::due_time(uint64_t index) const {
  return start_ns_ + static_cast<uint64_t>(static_cast<double>(index) * 1e9 / options_.rate);
}

void LoadClient::tick() {
  uint64_t now = uv_hrtime();
  for (auto& c : connections_) {
    if (c->busy() && now - c->sent_ns() > options_.timeout_ms * 1000000) c->fail();
  }
  if (now >= end_ns_) {
    finish();
    return;
  }
  if (options_.rate <= 0) return;  // closed loop: answers drive the sends
  // Every request due by now, in due order, on free connections or queued.
  for (; due_time(issued_) <= now; ++issued_) {
    uint64_t due = due_time(issued_);
    if (!free_.empty()) {
      LoadConnection* c = free_.back();
      free_.pop_back();
      issue(c, due);
    } else {
      backlog_.push_back(due);
      if (measuring(due)) ++report_.late;
    }
  }
}

void LoadClient::issue(LoadConnection* c, uint64_t due_ns) {
  std::string request;
  request.reserve(1400);
  uint64_t seq = seq_++;
  workload_.append_request(seq, due_ns, request);
  if (measuring(due_ns)) ++report_.sent;
  c->send(seq, due_ns, std::move(request));
}

void LoadClient::connection_lost(LoadConnection* c) {
  free_.erase(std::remove(free_.begin(), free_.end(), c), free_.end());
}

void LoadClient::connection_free(LoadConnection* c) {
  if (stopping_) return;
  if (options_.rate <= 0) {
    issue(c, uv_hrtime());  // closed loop: at once
    return;
  }
  if (!backlog_.empty()) {
    uint64_t due = backlog_.front();
    backlog_.pop_front();
    issue(c, due);
    return;
  }
  free_.push_back(c);
}

void LoadClient::completed(const LoadConnection& c, int status, bool error) {
  uint64_t due_ns = c.due_ns();
  if (outcome_log_ != nullptr && !stopping_)
    outcome_log_->record(c.seq(), due_ns, status, c.sent_ns(), uv_hrtime());
  if (!error && !stopping_) ++report_.completed_all;
  if (!measuring(due_ns) || stopping_) return;
  if (error) {
    ++report_.errors;
    return;
  }
  ++report_.completed;
  if (status >= 200 && status < 300)
    ++report_.ok;
  else
    ++report_.non_2xx;
  uint64_t latency = uv_hrtime() - due_ns;
  if (latency > report_.latency.max())
    report_.slowest_at_ms = (due_ns - measure_from_ns_) / 1000000;
  report_.latency.record(latency);
}

void LoadClient::finish() {
  if (stopping_) return;
  stopping_ = true;
  report_.measured_seconds = static_cast<double>(options_.duration_ms) / 1000.0;
  // Requests still unanswered when the run ends are not counted (those
  // older than the timeout were counted as errors already).
  uint64_t now = uv_hrtime();
  for (auto& c : connections_) {
    if (outcome_log_ != nullptr && c->busy())
      outcome_log_->record(c->seq(), c->due_ns(), OutcomeLog::kUnanswered, c->sent_ns(), now);
    c->close_final();
  }
}

}  // namespace streamshift
