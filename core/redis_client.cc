// Pipelined hiredis connections on a libuv loop; see redis_client.h.
#include "core/redis_client.h"

#include <hiredis/async.h>

#include <cstring>

#include "core/log.h"
#include "core/loop.h"
#include "core/redis_uv_adapter.h"

namespace streamshift {

std::string_view redis_status_name(RedisStatus status) {
  switch (status) {
    case RedisStatus::kOk:
      return "ok";
    case RedisStatus::kErrorReply:
      return "error_reply";
    case RedisStatus::kTimeout:
      return "timeout";
    case RedisStatus::kConnectionLost:
      return "connection_lost";
    case RedisStatus::kNotConnected:
      return "not_connected";
    case RedisStatus::kOverloaded:
      return "overloaded";
  }
  return "unknown";
}

namespace {

// One command handed to hiredis. hiredis owns it until its reply callback
// (which also runs, with a NULL reply, when the context is freed); a
// timed-out command stays until then, marked answered (late).
struct PendingCommand {
  RedisCallback callback;
  void* data;
  uint64_t deadline;
  bool answered = false;
  PendingCommand* prev = nullptr;
  PendingCommand* next = nullptr;
};

// Commands in the order they joined: those waiting for a reply within
// their deadline, or those whose deadline passed and whose reply is owed.
struct CommandList {
  PendingCommand* oldest = nullptr;
  PendingCommand* newest = nullptr;
  size_t size = 0;

  void push_back(PendingCommand* pc) {
    pc->prev = newest;
    pc->next = nullptr;
    if (newest != nullptr)
      newest->next = pc;
    else
      oldest = pc;
    newest = pc;
    ++size;
  }
  void remove(PendingCommand* pc) {
    if (pc->prev != nullptr)
      pc->prev->next = pc->next;
    else
      oldest = pc->next;
    if (pc->next != nullptr)
      pc->next->prev = pc->prev;
    else
      newest = pc->prev;
    pc->prev = pc->next = nullptr;
    --size;
  }
};

}  // namespace

class RedisConnection {
 public:
  RedisConnection(RedisClient* client, int index) : client_(client), index_(index) {
    uv_timer_init(client->loop_, &timer_);
    uv_timer_init(client->loop_, &deadline_timer_);
    timer_.data = deadline_timer_.data = this;
    resolve_req_.data = this;
  }

  void start();
  bool ready() const { return state_ == State::kReady; }
  /// Frees the context now; commands in flight get kConnectionLost.
  void close_now() {
    if (ac_ == nullptr) return;
    redisAsyncContext* ac = ac_;
    ac_ = nullptr;
    redisAsyncFree(ac);
    maybe_closed();
  }
  bool send(int argc, const char** argv, const size_t* argvlen, uint64_t timeout_ms,
            RedisCallback callback, void* data, RedisStatus* refused);
  void shutdown();

 private:
  enum class State {
    kIdle,
    kResolving,
    kConnecting,
    kHandshake,
    kReady,
    kBackoff,
    kClosing,
    kClosed
  };
  // Every state change goes through here, so readiness is reported once.
  void set_state(State next);

  void resolve();
  void connect();
  void handshake();
  void schedule_reconnect(std::string_view why);
  void arm_deadline_timer();
  // Replies owed past the limits: drop the connection (true if dropped).
  bool drop_if_replies_overdue(uint64_t now);
  void maybe_closed();
  bool issue(int argc, const char** argv, const size_t* argvlen, uint64_t timeout_ms,
             RedisCallback callback, void* data);

  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res);
  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);
  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_handshake_reply(void* data, const RedisResult& result);
  static void on_timer(uv_timer_t* t);
  static void on_deadline(uv_timer_t* t);

  RedisClient* client_;
  int index_;
  State state_ = State::kIdle;
  redisAsyncContext* ac_ = nullptr;
  uv_timer_t timer_;           // connect timeout, then reconnect backoff
  uv_timer_t deadline_timer_;  // the oldest command's deadline, or the oldest late one's grace
  uv_getaddrinfo_t resolve_req_;
  bool resolving_ = false;
  std::string address_;
  uint32_t attempt_ = 0;
  int handshake_left_ = 0;
  int open_timers_ = 2;
  size_t in_flight_ = 0;
  CommandList waiting_;  // unanswered, in send order
  CommandList late_;     // timed out, reply still owed, in time-out order
};

void RedisConnection::set_state(State next) {
  bool was_ready = state_ == State::kReady;
  bool is_ready = next == State::kReady;
  state_ = next;
  if (was_ready != is_ready && client_->options_.on_ready_change) {
    client_->options_.on_ready_change(is_ready ? 1 : -1);
  }
}

void RedisConnection::start() {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  sockaddr_storage numeric;
  if (numeric_sockaddr(client_->options_.endpoint.host, client_->options_.endpoint.port,
                       &numeric)) {
    address_ = client_->options_.endpoint.host;
    connect();
  } else {
    resolve();
  }
}

void RedisConnection::resolve() {
  set_state(State::kResolving);
  addrinfo hints;
  std::memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  int rc = uv_getaddrinfo(client_->loop_, &resolve_req_, on_resolved,
                          client_->options_.endpoint.host.c_str(), nullptr, &hints);
  if (rc != 0) {
    schedule_reconnect("resolve: " + uv_error_text(rc));
    return;
  }
  resolving_ = true;
}

void RedisConnection::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  auto* c = static_cast<RedisConnection*>(req->data);
  c->resolving_ = false;
  if (c->state_ != State::kResolving) {  // shut down meanwhile
    if (res != nullptr) uv_freeaddrinfo(res);
    c->maybe_closed();
    return;
  }
  if (status != 0 || res == nullptr) {
    if (res != nullptr) uv_freeaddrinfo(res);
    c->schedule_reconnect("resolve " + c->client_->options_.endpoint.host + ": " +
                          uv_error_text(status));
    return;
  }
  char text[INET6_ADDRSTRLEN] = {0};
  if (res->ai_family == AF_INET) {
    uv_ip4_name(reinterpret_cast<sockaddr_in*>(res->ai_addr), text, sizeof text);
  } else {
    uv_ip6_name(reinterpret_cast<sockaddr_in6*>(res->ai_addr), text, sizeof text);
  }
  uv_freeaddrinfo(res);
  c->address_ = text;
  c->connect();
}

void RedisConnection::connect() {
  // A numeric address: hiredis' own getaddrinfo does not block on it.
  redisAsyncContext* ac = redisAsyncConnect(address_.c_str(), client_->options_.endpoint.port);
  if (ac == nullptr) {
    schedule_reconnect("out of memory");
    return;
  }
  if (ac->err != 0) {
    std::string why = ac->errstr;
    redisAsyncFree(ac);
    schedule_reconnect("connect: " + why);
    return;
  }
  ac->data = this;
  if (int rc = redis_uv_attach(client_->loop_, ac, client_->options_.limits); rc != 0) {
    redisAsyncFree(ac);
    schedule_reconnect("attach: " + uv_error_text(rc));
    return;
  }
  ac_ = ac;
  set_state(State::kConnecting);
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  uv_timer_start(&timer_, on_timer, client_->options_.connect_timeout_ms, 0);
}

void RedisConnection::on_connect(const redisAsyncContext* ac, int status) {
  auto* c = static_cast<RedisConnection*>(ac->data);
  if (status != REDIS_OK) {
    // hiredis frees the context after this returns, without a disconnect callback.
    c->ac_ = nullptr;
    if (c->state_ == State::kClosing) {
      c->maybe_closed();
      return;
    }
    c->schedule_reconnect(std::string("connect: ") + ac->errstr);
    return;
  }
  if (c->state_ == State::kClosing) {
    redisAsyncDisconnect(c->ac_);
    return;
  }
  c->handshake();
}

void RedisConnection::handshake() {
  set_state(State::kHandshake);
  const RedisEndpoint& ep = client_->options_.endpoint;
  handshake_left_ = 0;
  uint64_t timeout = client_->options_.connect_timeout_ms;
  if (!ep.password.empty()) {
    std::vector<const char*> argv = {"AUTH"};
    std::vector<size_t> lens = {4};
    if (!ep.user.empty()) {
      argv.push_back(ep.user.c_str());
      lens.push_back(ep.user.size());
    }
    argv.push_back(ep.password.c_str());
    lens.push_back(ep.password.size());
    issue(static_cast<int>(argv.size()), argv.data(), lens.data(), timeout, on_handshake_reply,
          this);
    ++handshake_left_;
  }
  std::string db = std::to_string(ep.db);
  const char* select[] = {"SELECT", db.c_str()};
  size_t select_lens[] = {6, db.size()};
  const char* ping[] = {"PING"};
  size_t ping_len[] = {4};
  if (ep.db != 0)
    issue(2, select, select_lens, timeout, on_handshake_reply, this);
  else
    issue(1, ping, ping_len, timeout, on_handshake_reply, this);
  ++handshake_left_;
}

void RedisConnection::on_handshake_reply(void* data, const RedisResult& result) {
  auto* c = static_cast<RedisConnection*>(data);
  if (c->state_ != State::kHandshake) return;
  if (result.status != RedisStatus::kOk) {
    std::string why = result.status == RedisStatus::kErrorReply
                          ? std::string(result.error)
                          : std::string(redis_status_name(result.status));
    log_line(LogLevel::kError, "redis handshake failed (AUTH or SELECT)",
             {{"connection", c->index_}, {"error", why}});
    c->set_state(State::kConnecting);  // on_disconnect schedules the retry
    if (c->ac_ != nullptr) redisAsyncDisconnect(c->ac_);
    return;
  }
  if (--c->handshake_left_ > 0) return;
  uv_timer_stop(&c->timer_);
  c->set_state(State::kReady);
  c->attempt_ = 0;
  ++c->client_->connects_;
  log_line(LogLevel::kInfo, "redis connected",
           {{"client", c->client_->options_.name},
            {"connection", c->index_},
            {"address", c->address_ + ":" + std::to_string(c->client_->options_.endpoint.port)},
            {"db", c->client_->options_.endpoint.db}});
}

void RedisConnection::on_disconnect(const redisAsyncContext* ac, int status) {
  auto* c = static_cast<RedisConnection*>(ac->data);
  c->ac_ = nullptr;
  if (c->state_ == State::kClosing) {
    c->maybe_closed();
    return;
  }
  c->schedule_reconnect(status == REDIS_OK ? "disconnected"
                                           : std::string("connection lost: ") + ac->errstr);
}

void RedisConnection::schedule_reconnect(std::string_view why) {
  if (state_ == State::kBackoff || state_ == State::kClosing || state_ == State::kClosed) return;
  bool was_ready = state_ == State::kReady;
  set_state(State::kBackoff);
  const RedisOptions& o = client_->options_;
  uint64_t delay = o.backoff_initial_ms << std::min<uint32_t>(attempt_, 16);
  if (delay > o.backoff_max_ms) delay = o.backoff_max_ms;
  // Full jitter over the upper half, so reconnecting sidecars spread out.
  uint64_t& s = client_->jitter_state_;
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  delay = delay / 2 + s % (delay / 2 + 1);
  ++attempt_;
  // Attempts 1, 2, 4, 8, ... at info: a long outage does not flood the log.
  bool worth_telling = was_ready || (attempt_ & (attempt_ - 1)) == 0;
  log_line(was_ready       ? LogLevel::kWarn
           : worth_telling ? LogLevel::kInfo
                           : LogLevel::kDebug,
           "redis unavailable, reconnecting",
           {{"connection", index_},
            {"reason", why},
            {"retry_in_ms", static_cast<long long>(delay)},
            {"attempt", static_cast<long long>(attempt_)}});
  uv_timer_start(&timer_, on_timer, delay, 0);
}

void RedisConnection::on_timer(uv_timer_t* t) {
  auto* c = static_cast<RedisConnection*>(t->data);
  if (c->state_ == State::kBackoff) {
    c->start();
  } else if (c->state_ == State::kConnecting || c->state_ == State::kHandshake) {
    // Connect timeout. Freeing from a timer is safe; pending handshake
    // callbacks run now, with NULL replies.
    redisAsyncContext* ac = c->ac_;
    c->ac_ = nullptr;
    c->set_state(State::kConnecting);
    if (ac != nullptr) redisAsyncFree(ac);  // may run on_disconnect, which reschedules
    if (c->state_ != State::kBackoff) c->schedule_reconnect("connect timeout");
  }
}

bool RedisConnection::issue(int argc, const char** argv, const size_t* argvlen, uint64_t timeout_ms,
                            RedisCallback callback, void* data) {
  auto* pc = new PendingCommand{callback, data, uv_now(client_->loop_) + timeout_ms};
  if (redisAsyncCommandArgv(ac_, on_reply, pc, argc, argv, argvlen) != REDIS_OK) {
    delete pc;
    return false;
  }
  ++in_flight_;
  waiting_.push_back(pc);
  if (waiting_.oldest == pc) arm_deadline_timer();
  return true;
}

bool RedisConnection::send(int argc, const char** argv, const size_t* argvlen, uint64_t timeout_ms,
                           RedisCallback callback, void* data, RedisStatus* refused) {
  if (state_ != State::kReady || ac_ == nullptr) {
    *refused = RedisStatus::kNotConnected;
    return false;
  }
  if (in_flight_ >= client_->options_.max_in_flight) {
    *refused = RedisStatus::kOverloaded;
    return false;
  }
  if (!issue(argc, argv, argvlen, timeout_ms, callback, data)) {
    *refused = RedisStatus::kConnectionLost;
    return false;
  }
  return true;
}

void RedisConnection::arm_deadline_timer() {
  uint64_t due = UINT64_MAX;
  if (waiting_.oldest != nullptr) due = waiting_.oldest->deadline;
  if (late_.oldest != nullptr)
    due = std::min(due, late_.oldest->deadline + client_->options_.limits.late_reply_grace_ms);
  if (due == UINT64_MAX) {
    uv_timer_stop(&deadline_timer_);
    return;
  }
  uint64_t now = uv_now(client_->loop_);
  uv_timer_start(&deadline_timer_, on_deadline, due > now ? due - now : 0, 0);
}

void RedisConnection::on_deadline(uv_timer_t* t) {
  auto* c = static_cast<RedisConnection*>(t->data);
  uint64_t now = uv_now(c->client_->loop_);
  while (c->waiting_.oldest != nullptr && c->waiting_.oldest->deadline <= now) {
    PendingCommand* pc = c->waiting_.oldest;
    c->waiting_.remove(pc);
    pc->answered = true;  // the late reply only frees it
    c->late_.push_back(pc);
    RedisResult result;
    result.status = RedisStatus::kTimeout;
    pc->callback(pc->data, result);
  }
  if (!c->drop_if_replies_overdue(now)) c->arm_deadline_timer();
}

bool RedisConnection::drop_if_replies_overdue(uint64_t now) {
  const RedisReplyLimits& limits = client_->options_.limits;
  std::string why;
  if (late_.size > limits.max_late_replies) {
    why = std::to_string(late_.size) + " replies to timed-out commands still owed";
  } else if (late_.oldest != nullptr &&
             now >= late_.oldest->deadline + limits.late_reply_grace_ms) {
    why = "a reply owed for " + std::to_string(now - late_.oldest->deadline) +
          " ms past its deadline";
  }
  if (why.empty() || ac_ == nullptr) return false;
  // Everything still pending fails now (kConnectionLost); on_disconnect
  // schedules the reconnection.
  redis_uv_fail(ac_, why);
  return true;
}

void RedisConnection::on_reply(redisAsyncContext* ac, void* reply, void* privdata) {
  auto* c = static_cast<RedisConnection*>(ac->data);
  auto* pc = static_cast<PendingCommand*>(privdata);
  --c->in_flight_;
  if (pc->answered) {
    c->late_.remove(pc);
  } else {
    bool was_oldest = c->waiting_.oldest == pc;
    c->waiting_.remove(pc);
    RedisResult result;
    auto* r = static_cast<redisReply*>(reply);
    if (r == nullptr) {
      result.status = RedisStatus::kConnectionLost;
    } else if (r->type == REDIS_REPLY_ERROR) {
      result.status = RedisStatus::kErrorReply;
      result.error = std::string_view(r->str, r->len);
    }
    result.reply = r;
    pc->callback(pc->data, result);
    if (was_oldest) c->arm_deadline_timer();
  }
  delete pc;
}

void RedisConnection::shutdown() {
  State previous = state_;
  set_state(State::kClosing);
  uv_timer_stop(&timer_);
  for (uv_timer_t* t : {&timer_, &deadline_timer_}) {
    close_handle(reinterpret_cast<uv_handle_t*>(t), [](uv_handle_t* h) {
      auto* c = static_cast<RedisConnection*>(h->data);
      --c->open_timers_;
      c->maybe_closed();
    });
  }
  if (resolving_) uv_cancel(reinterpret_cast<uv_req_t*>(&resolve_req_));
  if (ac_ != nullptr) {
    if (previous == State::kReady || previous == State::kHandshake) {
      redisAsyncDisconnect(ac_);  // after the replies in flight
    } else {
      redisAsyncContext* ac = ac_;
      ac_ = nullptr;
      redisAsyncFree(ac);
    }
  }
}

void RedisConnection::maybe_closed() {
  if (state_ != State::kClosing || open_timers_ > 0 || ac_ != nullptr || resolving_) return;
  set_state(State::kClosed);
  client_->connection_closed();
}

// ---- RedisClient ----

RedisClient::RedisClient(uv_loop_t* loop, RedisOptions options)
    : loop_(loop), options_(std::move(options)) {
  jitter_state_ = reinterpret_cast<uintptr_t>(this) ^ uv_hrtime();
  if (jitter_state_ == 0) jitter_state_ = 1;
  for (size_t i = 0; i < options_.connections; ++i) {
    connections_.push_back(std::make_unique<RedisConnection>(this, static_cast<int>(i)));
  }
  open_connections_ = connections_.size();
}

RedisClient::~RedisClient() = default;

void RedisClient::start() {
  for (auto& c : connections_) c->start();
}

size_t RedisClient::ready_connections() const {
  size_t n = 0;
  for (const auto& c : connections_) n += c->ready() ? 1 : 0;
  return n;
}

void RedisClient::command(int argc, const char** argv, const size_t* argvlen, uint64_t timeout_ms,
                          RedisCallback callback, void* data) {
  RedisStatus refused = RedisStatus::kNotConnected;
  for (size_t tries = 0; tries < connections_.size() && !shutting_down_; ++tries) {
    RedisConnection& c = *connections_[next_++ % connections_.size()];
    if (c.send(argc, argv, argvlen, timeout_ms, callback, data, &refused)) return;
  }
  RedisResult result;
  result.status = refused;
  callback(data, result);
}

void RedisClient::shutdown(std::function<void()> on_closed) {
  // A second caller (a drain timeout's close_now, then the graceful path)
  // is told too: when everything is closed, or at once if it already is.
  if (shutting_down_ && open_connections_ == 0) {
    if (on_closed) on_closed();
    return;
  }
  if (on_closed) on_closed_.push_back(std::move(on_closed));
  if (shutting_down_) return;
  shutting_down_ = true;
  for (auto& c : connections_) c->shutdown();
}

void RedisClient::close_now() {
  if (!shutting_down_) shutdown(nullptr);
  for (auto& c : connections_) c->close_now();
}

void RedisClient::connection_closed() {
  if (--open_connections_ > 0) return;
  std::vector<std::function<void()>> waiting = std::move(on_closed_);
  on_closed_.clear();
  for (auto& done : waiting) done();
}

}  // namespace streamshift
