// One pipelined Redis connection; see redis_connection.h for its states.
#include "core/redis_connection.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/log.h"
#include "core/loop.h"

namespace streamshift {

RedisConnection::RedisConnection(RedisClient* client, int index)
    : client_(client), index_(index), host_(client->first_host_ + static_cast<size_t>(index)) {
  for (uv_timer_t* t : {&connect_timer_, &backoff_timer_, &deadline_timer_}) {
    uv_timer_init(client->loop_, t);
    t->data = this;
  }
  uv_idle_init(client->loop_, &flush_idle_);
  uv_check_init(client->loop_, &flush_check_);
  flush_idle_.data = this;
  flush_check_.data = this;
  resolve_req_.data = this;
}

namespace {
uv_handle_t* as_handle(auto* h) {
  return reinterpret_cast<uv_handle_t*>(h);
}

// ["message", channel, payload] or ["pmessage", pattern, channel, payload].
bool is_pubsub_message(const redisReply& r) {
  if (r.type != REDIS_REPLY_ARRAY || r.elements < 3 || r.element[0]->type != REDIS_REPLY_STRING) {
    return false;
  }
  std::string_view kind(r.element[0]->str, r.element[0]->len);
  return (kind == "message" && r.elements == 3) || (kind == "pmessage" && r.elements == 4);
}
}  // namespace

std::array<uv_handle_t*, 5> RedisConnection::handles() {
  return {as_handle(&connect_timer_), as_handle(&backoff_timer_), as_handle(&deadline_timer_),
          as_handle(&flush_idle_), as_handle(&flush_check_)};
}

bool RedisConnection::handles_closed() {
  if (handles_closing_) return false;  // our close callbacks free it
  for (uv_handle_t* h : handles()) {
    if (!uv_is_closing(h)) return false;
  }
  return true;
}

void RedisConnection::set_state(State next) {
  bool was_ready = state_ == State::kReady;
  bool is_ready = next == State::kReady;
  state_ = next;
  if (was_ready == is_ready) return;
  const RedisOptions& o = client_->options_;
  if (o.primary_status) o.primary_status->ready_change(is_ready ? 1 : -1);
  if (o.on_ready_change) o.on_ready_change(is_ready ? 1 : -1);
}

void RedisConnection::start() {
  if (stopping_ || state_ != State::kDown) return;
  const RedisOptions& o = client_->options_;
  if (client_->locator_) {
    set_state(State::kLocating);
    uv_timer_start(&connect_timer_, on_connect_timeout, o.connect_timeout_ms, 0);
    client_->locator_->locate(this);
    return;
  }
  if (o.hosts.empty()) {
    connect_to(RedisHost{o.endpoint.host, o.endpoint.port});
  } else {
    connect_to(o.hosts[host_ % o.hosts.size()]);
  }
}

void RedisConnection::located(const RedisHost& primary) {
  if (state_ == State::kLocating) connect_to(primary);
}

void RedisConnection::not_located(std::string_view reason) {
  if (state_ == State::kLocating) close(reason);
}

void RedisConnection::connect_to(const RedisHost& target) {
  target_ = target;
  sockaddr_storage numeric;
  if (numeric_sockaddr(target_.host, target_.port, &numeric)) {
    address_ = target_.host;
    connect();
  } else {
    resolve();
  }
}

void RedisConnection::primary_moved(const RedisHost& primary) {
  if (stopping_) return;
  bool elsewhere = state_ != State::kDown && state_ != State::kLocating && !(target_ == primary);
  if (elsewhere) close("primary moved");
  if (state_ == State::kDown && uv_is_active(as_handle(&backoff_timer_))) {
    uv_timer_stop(&backoff_timer_);
    start();
  }
}

void RedisConnection::resolve() {
  set_state(State::kResolving);
  addrinfo hints;
  std::memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  int rc = uv_getaddrinfo(client_->loop_, &resolve_req_, on_resolved, target_.host.c_str(), nullptr,
                          &hints);
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
    c->close("resolve " + c->target_.host + ": " + uv_error_text(status));
  } else {
    c->address_ = std::move(address);
    c->connect();
  }
}

void RedisConnection::connect() {
  // The last socket's commands were all answered when it closed: the queue
  // matches replies to commands by order alone.
  assert(commands_.size() == 0 && socket_ == nullptr);
  const RedisOptions& o = client_->options_;
  sockaddr_storage address;
  if (!numeric_sockaddr(address_, target_.port, &address)) {
    close("not an address: " + address_);
    return;
  }
  const std::string& tls_name =
      o.tls != nullptr && !o.tls->server_name().empty() ? o.tls->server_name() : target_.host;
  replies_ = std::make_unique<RedisReplyReader>(o.limits);
  set_state(State::kConnecting);
  uv_timer_start(&connect_timer_, on_connect_timeout, o.connect_timeout_ms, 0);
  std::string error;
  socket_ = RedisSocket::open(client_->loop_, reinterpret_cast<const sockaddr*>(&address),
                              o.tls.get(), tls_name, this, &error);
  if (socket_ == nullptr) close(error);
}

void RedisConnection::on_connected() {
  if (client_->options_.tls != nullptr) set_state(State::kTlsHandshake);
}

void RedisConnection::on_open() {
  handshake();
}

void RedisConnection::on_failed(std::string reason) {
  close(reason);
}

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
    issue({static_cast<int>(argv.size()), argv.data(), lens.data()}, timeout, on_handshake_reply,
          this);
    ++handshake_left_;
  }
  std::string db = std::to_string(ep.db);
  const char* select[] = {"SELECT", db.c_str()};
  size_t select_lens[] = {6, db.size()};
  const char* ping[] = {"PING"};
  size_t ping_len[] = {4};
  ++handshake_left_;
  if (ep.db != 0) {
    issue({2, select, select_lens}, timeout, on_handshake_reply, this);
  } else {
    issue({1, ping, ping_len}, timeout, on_handshake_reply, this);
  }
  if (client_->locator_) {  // the Sentinels may be behind: is it the primary?
    const char* role[] = {"ROLE"};
    size_t role_len[] = {4};
    ++handshake_left_;
    issue({1, role, role_len}, timeout, on_role_reply, this);
  }
}

void RedisConnection::on_role_reply(void* data, const RedisResult& result) {
  auto* c = static_cast<RedisConnection*>(data);
  if (c->state_ != State::kHandshake) return;
  if (result.status == RedisStatus::kOk) {
    std::string role = redis_role(result.reply);
    if (role != "master") {
      log_line(LogLevel::kWarn, "redis: the node the sentinels named is not a primary",
               {{"client", c->client_->options_.name},
                {"address", redis_host_text(c->target_)},
                {"role", role}});
      c->close("not a primary (role: " + (role.empty() ? std::string("unknown") : role) + ")");
      return;
    }
  }
  on_handshake_reply(data, result);  // an error, or one step closer to kReady
}

void RedisConnection::on_handshake_reply(void* data, const RedisResult& result) {
  auto* c = static_cast<RedisConnection*>(data);
  if (c->state_ != State::kHandshake) return;
  if (result.status != RedisStatus::kOk) {
    std::string why = result.status == RedisStatus::kErrorReply
                          ? std::string(result.error)
                          : std::string(redis_status_name(result.status));
    log_line(LogLevel::kError, "redis handshake failed (AUTH, SELECT or ROLE)",
             {{"client", c->client_->options_.name}, {"connection", c->index_}, {"error", why}});
    c->close("handshake: " + why);
    return;
  }
  if (--c->handshake_left_ > 0) return;
  uv_timer_stop(&c->connect_timer_);
  c->set_state(State::kReady);
  c->attempt_ = 0;
  ++c->client_->connects_;
  c->client_->last_error_.clear();
  if (const auto& status = c->client_->options_.primary_status) {
    status->primary_at(redis_host_text(c->target_));
  }
  log_line(LogLevel::kInfo, "redis connected",
           {{"client", c->client_->options_.name},
            {"connection", c->index_},
            {"address", c->address_ + ":" + std::to_string(c->target_.port)},
            {"db", c->client_->options_.endpoint.db},
            {"tls", c->client_->options_.tls != nullptr}});
}

// Replies come in send order: each is the oldest command's.
bool RedisConnection::on_bytes(const char* data, size_t len) {
  RedisSocket* socket = socket_;
  if (!replies_->feed(data, len)) {
    close(replies_->error());
    return false;
  }
  while (socket_ == socket) {
    ReplyPtr reply = replies_->next();
    if (reply == nullptr) {
      if (!replies_->error().empty()) close(replies_->error());
      break;
    }
    if (client_->options_.on_push && is_pubsub_message(*reply)) {
      client_->options_.on_push(*reply);  // may close this connection
      continue;
    }
    if (commands_.size() == 0) {
      close("protocol error: a reply no command asked for");
      break;
    }
    bool was_waiting = commands_.late() == 0;
    commands_.reply(std::move(reply));  // the callback may send, or close this connection
    if (socket_ != socket) break;
    if (state_ == State::kDraining && commands_.size() == 0) {
      close("shutting down");
      break;
    }
    if (was_waiting) arm_deadline_timer();
    if (!batch_.empty() && commands_.waits() == 0) schedule_flush();  // one held back for a WAIT
  }
  return socket_ == socket;
}

void RedisConnection::on_connect_timeout(uv_timer_t* timer) {
  auto* c = static_cast<RedisConnection*>(timer->data);
  if (c->state_ == State::kLocating) {
    std::string why = c->client_->locator_->last_error();
    c->close("connect timeout: no primary from the sentinels" +
             (why.empty() ? std::string() : " (" + why + ")"));
    return;
  }
  c->close(c->state_ == State::kTlsHandshake ? "handshake timeout" : "connect timeout");
}

void RedisConnection::on_backoff_done(uv_timer_t* timer) {
  static_cast<RedisConnection*>(timer->data)->start();
}

void RedisConnection::close(std::string_view reason) {
  if (state_ == State::kLocating) client_->locator_->cancel(this);
  bool was_ready = state_ == State::kReady;
  bool was_down = state_ == State::kDown;
  bool retry_scheduled = uv_is_active(as_handle(&backoff_timer_)) != 0;
  set_state(State::kDown);
  uv_timer_stop(&connect_timer_);
  if (resolve_pending_) uv_cancel(reinterpret_cast<uv_req_t*>(&resolve_req_));
  // Nothing borrowed is referenced once the callbacks below run.
  batch_.clear();
  batch_replicas_ = 0;
  uv_idle_stop(&flush_idle_);
  uv_check_stop(&flush_check_);
  if (RedisSocket* s = std::exchange(socket_, nullptr)) s->close();
  // Oldest first, kConnectionLost; callbacks may re-enter (a send is
  // refused now, a close finds nothing left).
  while (commands_.size() > 0) commands_.reply(nullptr);
  if (!handles_closing_) arm_deadline_timer();
  if (stopping_) {
    if (!was_down && log_enabled(LogLevel::kDebug)) {
      log_line(LogLevel::kDebug, "redis connection closed",
               {{"client", client_->options_.name}, {"connection", index_}, {"reason", reason}});
    }
    maybe_finish();
  } else if (!retry_scheduled && !was_down) {
    client_->last_error_ = reason;
    schedule_reconnect(reason, was_ready);
  }
}

void RedisConnection::schedule_reconnect(std::string_view reason, bool was_ready) {
  const RedisOptions& o = client_->options_;
  ++attempt_;
  ++host_;  // never the host that just failed or dropped us, with several
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

void RedisConnection::schedule_flush() {
  uv_idle_start(&flush_idle_, [](uv_idle_t*) {});
  uv_check_start(&flush_check_, on_flush_check);
}

void RedisConnection::issue(const RedisCommandArgs& args, uint64_t timeout_ms,
                            RedisCallback callback, void* data) {
  if (batch_.empty()) schedule_flush();
  bool first_waiting = commands_.none_waiting();
  uint64_t deadline = uv_now(client_->loop_) + timeout_ms;
  if (args.asking) {  // ASK: its reply (+OK) is dropped, the command answers
    static const char* const kAsking[] = {"ASKING"};
    static const size_t kAskingLen[] = {6};
    batch_.append(1, kAsking, kAskingLen);
    commands_.push([](void*, const RedisResult&) {}, nullptr, deadline);
  }
  batch_.append(args.argc, args.argv, args.lens, args.borrowed);
  commands_.push(callback, data, deadline, args.replicas);
  if (args.replicas > 0) {
    if (batch_replicas_ == 0 || deadline < batch_first_due_) batch_first_due_ = deadline;
    if (batch_replicas_ == 0 || deadline > batch_last_due_) batch_last_due_ = deadline;
    batch_replicas_ = std::max(batch_replicas_, args.replicas);
  }
  if (first_waiting) arm_deadline_timer();
}

void RedisConnection::append_wait() {
  // Redis must answer before the first deadline: a fifth of the time left
  // (at least 1 ms) is kept for the reply's way back. WAIT 0 would block
  // for ever, hence at least 1.
  uint64_t now = uv_now(client_->loop_);
  uint64_t left = batch_first_due_ > now ? batch_first_due_ - now : 0;
  std::string replicas = std::to_string(batch_replicas_);
  std::string wait_ms = std::to_string(std::max<uint64_t>(1, left - std::min(left, 1 + left / 5)));
  const char* argv[] = {"WAIT", replicas.c_str(), wait_ms.c_str()};
  size_t lens[] = {4, replicas.size(), wait_ms.size()};
  batch_.append(3, argv, lens);
  commands_.push_wait(batch_replicas_, batch_last_due_);
  batch_replicas_ = 0;
}

void RedisConnection::on_flush_check(uv_check_t* check) {
  static_cast<RedisConnection*>(check->data)->flush();
}

void RedisConnection::flush() {
  uv_idle_stop(&flush_idle_);
  uv_check_stop(&flush_check_);
  // A WAIT out blocks this connection on the server: what is sent now would
  // wait behind it there, and its own WAIT's timeout would start late. The
  // batch leaves when the WAIT is answered (on_bytes), or at a deadline.
  if (commands_.waits() == 0) send_batch();
}

void RedisConnection::send_batch() {
  if (batch_replicas_ > 0) append_wait();
  if (socket_ != nullptr) socket_->send(batch_);  // a failure closes this connection
  batch_.clear();
}

bool RedisConnection::send(const RedisCommandArgs& args, uint64_t timeout_ms,
                           RedisCallback callback, void* data, RedisStatus* refused) {
  const RedisOptions& o = client_->options_;
  if (state_ != State::kReady) {
    *refused = RedisStatus::kNotConnected;
    return false;
  }
  if (commands_.outstanding() >= o.max_in_flight ||
      socket_->queued_bytes() > o.limits.max_queued_write_bytes) {
    *refused = RedisStatus::kOverloaded;
    return false;
  }
  issue(args, timeout_ms, callback, data);
  return true;
}

void RedisConnection::arm_deadline_timer() {
  if (handles_closing_) return;  // a callback shut the connection down meanwhile
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
  // A command is answered only after its bytes have left (borrowed ones
  // are referenced until then): a batch still waiting for its flush, one
  // issued late in a loop turn, goes first.
  if (!c->batch_.empty()) c->send_batch();
  uint64_t now = uv_now(c->client_->loop_);
  RedisSocket* socket = c->socket_;
  c->commands_.expire(now);  // callbacks may close this connection
  if (c->socket_ != socket || c->handles_closing_) return;
  std::string why = c->commands_.overdue(now, c->client_->options_.limits);
  if (!why.empty()) {
    c->close("connection lost: " + why);
    return;
  }
  c->arm_deadline_timer();
}

void RedisConnection::shutdown() {
  stopping_ = true;
  uv_timer_stop(&backoff_timer_);
  if (state_ == State::kReady && commands_.size() > 0) {
    set_state(State::kDraining);  // on_bytes closes after the last reply
  } else if (state_ != State::kDraining) {
    close("shutting down");
  }
}

void RedisConnection::maybe_finish() {
  if (!stopping_ || state_ != State::kDown || socket_ != nullptr || resolve_pending_ ||
      handles_closing_)
    return;
  handles_closing_ = true;
  for (uv_handle_t* h : handles()) close_handle(h, on_handle_closed);
}

void RedisConnection::on_handle_closed(uv_handle_t* handle) {
  auto* c = static_cast<RedisConnection*>(handle->data);
  if (--c->open_handles_ > 0) return;
  RedisClient* client = c->client_;
  int index = c->index_;
  delete c;
  client->connection_closed(index);
}

}  // namespace streamshift
