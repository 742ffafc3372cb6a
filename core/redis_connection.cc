// One pipelined hiredis connection; see redis_connection.h for its states.
#include "core/redis_connection.h"

#include <cassert>
#include <cstring>
#include <utility>
#include <vector>

#include "core/log.h"
#include "core/loop.h"
#include "core/redis_uv_adapter.h"

namespace streamshift {

RedisConnection::RedisConnection(RedisClient* client, int index) : client_(client), index_(index) {
  for (uv_timer_t* t : {&connect_timer_, &backoff_timer_, &deadline_timer_}) {
    uv_timer_init(client->loop_, t);
    t->data = this;
  }
  resolve_req_.data = this;
}

bool RedisConnection::handles_closed() const {
  if (timers_closing_) return false;  // our close callbacks free it
  for (const uv_timer_t* t : {&connect_timer_, &backoff_timer_, &deadline_timer_}) {
    if (!uv_is_closing(reinterpret_cast<const uv_handle_t*>(t))) return false;
  }
  return true;
}

void RedisConnection::set_state(State next) {
  bool was_ready = state_ == State::kReady;
  bool is_ready = next == State::kReady;
  state_ = next;
  if (was_ready != is_ready && client_->options_.on_ready_change) {
    client_->options_.on_ready_change(is_ready ? 1 : -1);
  }
}

void RedisConnection::start() {
  if (stopping_ || state_ != State::kDown) return;
  sockaddr_storage numeric;
  const RedisEndpoint& ep = client_->options_.endpoint;
  if (numeric_sockaddr(ep.host, ep.port, &numeric)) {
    address_ = ep.host;
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
    close("resolve: " + uv_error_text(rc));
    return;
  }
  resolve_pending_ = true;
}

void RedisConnection::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  auto* c = static_cast<RedisConnection*>(req->data);
  c->resolve_pending_ = false;
  std::string address;
  if (status == 0 && res != nullptr) {
    char text[INET6_ADDRSTRLEN] = {0};
    if (res->ai_family == AF_INET) {
      uv_ip4_name(reinterpret_cast<sockaddr_in*>(res->ai_addr), text, sizeof text);
    } else {
      uv_ip6_name(reinterpret_cast<sockaddr_in6*>(res->ai_addr), text, sizeof text);
    }
    address = text;
  }
  if (res != nullptr) uv_freeaddrinfo(res);
  if (c->state_ != State::kResolving) {  // closed meanwhile
    c->maybe_finish();
  } else if (address.empty()) {
    c->close("resolve " + c->client_->options_.endpoint.host + ": " + uv_error_text(status));
  } else {
    c->address_ = std::move(address);
    c->connect();
  }
}

void RedisConnection::connect() {
  // The last context's commands were all answered when it was freed: the
  // queue matches replies to commands by order alone.
  assert(commands_.size() == 0);
  // A numeric address: hiredis' own getaddrinfo does not block on it.
  redisAsyncContext* ac = redisAsyncConnect(address_.c_str(), client_->options_.endpoint.port);
  if (ac == nullptr) {
    close("out of memory");
    return;
  }
  std::string refused;
  if (ac->err != 0) {
    refused = std::string("connect: ") + ac->errstr;
  } else if (int rc = redis_uv_attach(client_->loop_, ac, client_->options_.limits); rc != 0) {
    refused = "attach: " + uv_error_text(rc);
  }
  if (!refused.empty()) {
    redisAsyncFree(ac);  // never ours: close() has nothing to free
    close(refused);
    return;
  }
  ac->data = this;
  ac_ = ac;
  set_state(State::kConnecting);
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  uv_timer_start(&connect_timer_, on_connect_timeout, client_->options_.connect_timeout_ms, 0);
}

void RedisConnection::on_connect(const redisAsyncContext* ac, int status) {
  auto* c = static_cast<RedisConnection*>(ac->data);
  if (ac != c->ac_) return;
  if (status != REDIS_OK) {
    c->ac_ = nullptr;  // hiredis frees it after this returns, without on_disconnect
    c->close(std::string("connect: ") + ac->errstr);
    return;
  }
  c->handshake();
}

// Inside hiredis' connect callback, where the context must not be freed: a
// command it refuses is left to the connect timer.
void RedisConnection::handshake() {
  set_state(State::kHandshake);
  const RedisEndpoint& ep = client_->options_.endpoint;
  uint64_t timeout = client_->options_.connect_timeout_ms;
  handshake_left_ = 0;
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
    c->close("handshake: " + why);  // in a reply callback: hiredis defers the free
    return;
  }
  if (--c->handshake_left_ > 0) return;
  uv_timer_stop(&c->connect_timer_);
  c->set_state(State::kReady);
  c->attempt_ = 0;
  ++c->client_->connects_;
  c->client_->last_error_.clear();
  log_line(LogLevel::kInfo, "redis connected",
           {{"client", c->client_->options_.name},
            {"connection", c->index_},
            {"address", c->address_ + ":" + std::to_string(c->client_->options_.endpoint.port)},
            {"db", c->client_->options_.endpoint.db}});
}

void RedisConnection::on_disconnect(const redisAsyncContext* ac, int status) {
  auto* c = static_cast<RedisConnection*>(ac->data);
  if (ac != c->ac_) return;  // one close() gave up
  c->ac_ = nullptr;          // hiredis frees it after this returns
  c->close(status == REDIS_OK ? std::string("disconnected")
                              : std::string("connection lost: ") + ac->errstr);
}

void RedisConnection::on_connect_timeout(uv_timer_t* timer) {
  static_cast<RedisConnection*>(timer->data)->close("connect timeout");
}

void RedisConnection::on_backoff_done(uv_timer_t* timer) {
  static_cast<RedisConnection*>(timer->data)->start();
}

void RedisConnection::close(std::string_view reason) {
  bool was_ready = state_ == State::kReady;
  bool was_down = state_ == State::kDown;
  bool retry_scheduled = uv_is_active(reinterpret_cast<uv_handle_t*>(&backoff_timer_)) != 0;
  set_state(State::kDown);
  uv_timer_stop(&connect_timer_);
  if (resolve_pending_) uv_cancel(reinterpret_cast<uv_req_t*>(&resolve_req_));
  // Freeing runs every pending reply callback (kConnectionLost) now, or,
  // inside a reply callback, right after it; callbacks may re-enter.
  if (redisAsyncContext* ac = std::exchange(ac_, nullptr)) redisAsyncFree(ac);
  if (stopping_) {
    if (!was_down && log_enabled(LogLevel::kDebug)) {
      log_line(LogLevel::kDebug, "redis connection closed",
               {{"client", client_->options_.name}, {"connection", index_}, {"reason", reason}});
    }
    maybe_finish();
  } else if (!retry_scheduled) {
    client_->last_error_ = reason;
    schedule_reconnect(reason, was_ready);
  }
}

void RedisConnection::schedule_reconnect(std::string_view reason, bool was_ready) {
  const RedisOptions& o = client_->options_;
  ++attempt_;
  uint64_t delay =
      Backoff{o.backoff_initial_ms, o.backoff_max_ms}.delay_ms(attempt_, client_->jitter_);
  // Attempts 1, 2, 4, 8, ... at info: a long outage does not flood the log.
  bool worth_telling = was_ready || (attempt_ & (attempt_ - 1)) == 0;
  log_line(was_ready       ? LogLevel::kWarn
           : worth_telling ? LogLevel::kInfo
                           : LogLevel::kDebug,
           "redis unavailable, reconnecting",
           {{"connection", index_},
            {"reason", reason},
            {"retry_in_ms", static_cast<long long>(delay)},
            {"attempt", static_cast<long long>(attempt_)}});
  uv_timer_start(&backoff_timer_, on_backoff_done, delay, 0);
}

bool RedisConnection::issue(int argc, const char** argv, const size_t* argvlen, uint64_t timeout_ms,
                            RedisCallback callback, void* data) {
  if (redisAsyncCommandArgv(ac_, on_reply, nullptr, argc, argv, argvlen) != REDIS_OK) return false;
  bool first_waiting = commands_.none_waiting();
  commands_.push(callback, data, uv_now(client_->loop_) + timeout_ms);
  if (first_waiting) arm_deadline_timer();
  return true;
}

bool RedisConnection::send(int argc, const char** argv, const size_t* argvlen, uint64_t timeout_ms,
                           RedisCallback callback, void* data, RedisStatus* refused) {
  if (state_ != State::kReady) {
    *refused = RedisStatus::kNotConnected;
    return false;
  }
  if (commands_.size() >= client_->options_.max_in_flight) {
    *refused = RedisStatus::kOverloaded;
    return false;
  }
  if (!issue(argc, argv, argvlen, timeout_ms, callback, data)) {
    *refused = RedisStatus::kConnectionLost;
    return false;
  }
  return true;
}

// hiredis calls back in send order: the reply is the oldest command's.
void RedisConnection::on_reply(redisAsyncContext* ac, void* reply, void*) {
  auto* c = static_cast<RedisConnection*>(ac->data);
  bool was_waiting = c->commands_.late() == 0;
  c->commands_.reply(static_cast<redisReply*>(reply));
  if (was_waiting) c->arm_deadline_timer();
}

void RedisConnection::arm_deadline_timer() {
  if (timers_closing_) return;  // a callback shut the connection down meanwhile
  std::optional<uint64_t> due = commands_.next_due(client_->options_.limits.late_reply_grace_ms);
  if (!due) {
    uv_timer_stop(&deadline_timer_);
    return;
  }
  uint64_t now = uv_now(client_->loop_);
  uv_timer_start(&deadline_timer_, on_deadline, *due > now ? *due - now : 0, 0);
}

void RedisConnection::on_deadline(uv_timer_t* timer) {
  auto* c = static_cast<RedisConnection*>(timer->data);
  uint64_t now = uv_now(c->client_->loop_);
  c->commands_.expire(now);
  std::string why = c->commands_.overdue(now, c->client_->options_.limits);
  if (!why.empty() && c->ac_ != nullptr) {
    // Fails like a read error: every command left gets kConnectionLost,
    // then on_disconnect closes with "connection lost: <why>".
    redis_uv_fail(c->ac_, why);
    return;
  }
  c->arm_deadline_timer();
}

void RedisConnection::shutdown() {
  stopping_ = true;
  uv_timer_stop(&backoff_timer_);
  if (state_ == State::kReady) {
    set_state(State::kDraining);
    redisAsyncDisconnect(ac_);  // after the replies in flight; may close() at once
  } else if (state_ != State::kDraining) {
    close("shutting down");
  }
}

void RedisConnection::maybe_finish() {
  if (!stopping_ || state_ != State::kDown || ac_ != nullptr || resolve_pending_ || timers_closing_)
    return;
  timers_closing_ = true;
  for (uv_timer_t* t : {&connect_timer_, &backoff_timer_, &deadline_timer_}) {
    close_handle(reinterpret_cast<uv_handle_t*>(t), on_timer_closed);
  }
}

void RedisConnection::on_timer_closed(uv_handle_t* handle) {
  auto* c = static_cast<RedisConnection*>(handle->data);
  if (--c->open_timers_ > 0) return;
  RedisClient* client = c->client_;
  int index = c->index_;
  delete c;
  client->connection_closed(index);
}

}  // namespace streamshift
