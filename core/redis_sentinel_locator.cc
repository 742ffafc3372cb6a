// The Sentinels' answer to "where is the primary"; see redis_sentinel_locator.h.
#include "core/redis_sentinel_locator.h"

#include <algorithm>
#include <utility>

#include "core/decimal.h"
#include "core/log.h"
#include "core/loop.h"

namespace streamshift {
namespace {

std::string_view text_of(const redisReply* r) {
  if (r == nullptr || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)) return {};
  return {r->str, r->len};
}

std::optional<uint16_t> port_of(std::string_view text) {
  std::optional<int64_t> port = parse_decimal(text, 1, 65535);
  if (!port) return std::nullopt;
  return static_cast<uint16_t>(*port);
}

constexpr std::string_view kSwitchMaster = "+switch-master";
// How often watch_ is checked with a PING (its deadline: the connect timeout).
constexpr uint64_t kWatchPingMs = 1000;

}  // namespace

std::string redis_role(const redisReply* reply) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) return "";
  return std::string(text_of(reply->element[0]));
}

std::optional<RedisHost> parse_master_addr(const redisReply* reply, std::string_view master_name,
                                           std::string* why) {
  if (reply != nullptr && reply->type == REDIS_REPLY_NIL) {
    *why = "sentinel: no master named '" + std::string(master_name) + "'";
    return std::nullopt;
  }
  if (reply != nullptr && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
    std::string_view host = text_of(reply->element[0]);
    std::optional<uint16_t> port = port_of(text_of(reply->element[1]));
    if (!host.empty() && port) return RedisHost{std::string(host), *port};
  }
  *why = "sentinel: get-master-addr-by-name answered something else than [ip, port]";
  return std::nullopt;
}

std::optional<RedisHost> parse_switch_master(std::string_view payload,
                                             std::string_view master_name) {
  std::vector<std::string_view> words;
  size_t from = 0;
  while (from < payload.size()) {
    size_t space = std::min(payload.find(' ', from), payload.size());
    if (space > from) words.push_back(payload.substr(from, space - from));
    from = space + 1;
  }
  if (words.size() != 5 || words[0] != master_name) return std::nullopt;
  std::optional<uint16_t> port = port_of(words[4]);
  if (!port) return std::nullopt;
  return RedisHost{std::string(words[3]), *port};
}

RedisOptions RedisSentinelLocator::sentinel_options(const RedisOptions& data, std::string suffix) {
  RedisOptions o;
  o.name = data.name + suffix;
  o.endpoint.host = data.endpoint.sentinels.front().host;
  o.endpoint.port = data.endpoint.sentinels.front().port;
  o.endpoint.user = data.endpoint.sentinel_user;
  o.endpoint.password = data.endpoint.sentinel_password;
  o.hosts = data.endpoint.sentinels;
  o.connections = 1;
  o.connect_timeout_ms = data.connect_timeout_ms;
  o.backoff_initial_ms = data.backoff_initial_ms;
  o.backoff_max_ms = data.backoff_max_ms;
  // One timed-out command closes the connection, so the next attempt goes
  // to the next Sentinel: a hung one would otherwise keep the connection
  // "ready" and be asked again until the late reply's grace ran out.
  o.limits.max_late_replies = 0;
  return o;  // plaintext: the Sentinels are not spoken to over TLS
}

RedisSentinelLocator::RedisSentinelLocator(uv_loop_t* loop, const RedisOptions& data,
                                           std::function<void(const RedisHost&)> on_switch)
    : name_(data.name),
      master_name_(data.endpoint.master_name),
      timeout_ms_(data.connect_timeout_ms),
      status_(data.primary_status),
      on_switch_(std::move(on_switch)) {
  RedisOptions query = sentinel_options(data, "-sentinel");
  query.on_ready_change = [this](int delta) {
    if (delta > 0 && wanted() && !asking_) ask();
  };
  query_ = std::make_unique<RedisClient>(loop, std::move(query));
  RedisOptions watch = sentinel_options(data, "-sentinel-watch");
  watch.on_ready_change = [this](int delta) {
    if (delta > 0) subscribe();
  };
  watch.on_push = [this](const redisReply& message) { on_message(message); };
  watch_ = std::make_unique<RedisClient>(loop, std::move(watch));
  ping_ = new PingTimer{{}, this, nullptr};
  uv_timer_init(loop, &ping_->handle);
  ping_->handle.data = ping_;
}

// Never shut down: after close_loop the timer is closed and goes now;
// otherwise its close callback frees it if the loop runs again.
RedisSentinelLocator::~RedisSentinelLocator() {
  if (ping_ == nullptr) return;
  auto* handle = reinterpret_cast<uv_handle_t*>(&ping_->handle);
  if (uv_is_closing(handle)) {
    delete ping_;
    return;
  }
  ping_->owner = nullptr;
  close_handle(handle, [](uv_handle_t* h) { delete static_cast<PingTimer*>(h->data); });
}

void RedisSentinelLocator::start() {
  query_->start();
  watch_->start();
  uv_timer_start(&ping_->handle, on_ping_due, kWatchPingMs, kWatchPingMs);
}

void RedisSentinelLocator::locate(Waiter* w) {
  waiters_.push_back(w);
  if (!asking_) ask();
}

void RedisSentinelLocator::cancel(Waiter* w) {
  std::erase(waiters_, w);
}

std::string RedisSentinelLocator::last_error() const {
  return error_.empty() ? query_->last_error() : error_;
}

void RedisSentinelLocator::ask() {
  const char* argv[] = {"SENTINEL", "get-master-addr-by-name", master_name_.c_str()};
  size_t lens[] = {8, 23, master_name_.size()};
  asking_ = true;
  query_token_ = primary_.asked();
  query_->command(3, argv, lens, timeout_ms_, on_master_addr, this);
}

void RedisSentinelLocator::on_master_addr(void* data, const RedisResult& result) {
  auto* l = static_cast<RedisSentinelLocator*>(data);
  l->asking_ = false;
  if (result.status == RedisStatus::kErrorReply) {
    l->error_ = "sentinel: " + std::string(result.error);
    l->answer_all(nullptr, l->error_);
    return;
  }
  if (result.status != RedisStatus::kOk) {
    // Not connected, lost, timed out (which closes query_'s connection):
    // asked again once query_ is ready, on the next Sentinel. The query
    // client's own reason (a refusal, a wrong password) says more.
    l->error_ = l->query_->last_error().empty()
                    ? "sentinel: " + std::string(redis_status_name(result.status))
                    : "";
    return;
  }
  std::string why;
  std::optional<RedisHost> primary = parse_master_addr(result.reply, l->master_name_, &why);
  if (!primary) {
    l->error_ = why;
    l->answer_all(nullptr, why);
    return;
  }
  RedisHost from = l->primary_.host();
  switch (l->primary_.answered(l->query_token_, *primary)) {
    case RedisSentinelPrimary::Answer::kStale:
      // Sent before the latest switch or subscription: perhaps from a
      // Sentinel that had not heard of it yet.
      if (l->wanted()) l->ask();
      return;
    case RedisSentinelPrimary::Answer::kMoved:
      l->moved(from);
      break;
    case RedisSentinelPrimary::Answer::kTaken:
      break;
  }
  l->error_.clear();
  l->fresh_wanted_ = false;
  l->answer_all(&*primary, "");
}

void RedisSentinelLocator::answer_all(const RedisHost* primary, std::string_view why) {
  // A waiter answered may fail at once and ask again: that is a new query.
  std::vector<Waiter*> waiting = std::exchange(waiters_, {});
  for (Waiter* w : waiting) {
    if (primary != nullptr) {
      w->located(*primary);
    } else {
      w->not_located(why);
    }
  }
}

void RedisSentinelLocator::subscribe() {
  const char* argv[] = {"SUBSCRIBE", kSwitchMaster.data()};
  size_t lens[] = {9, kSwitchMaster.size()};
  watch_->command(2, argv, lens, timeout_ms_, on_subscribed, this);
}

void RedisSentinelLocator::on_subscribed(void* data, const RedisResult& result) {
  auto* l = static_cast<RedisSentinelLocator*>(data);
  if (result.status == RedisStatus::kOk) {
    // A +switch-master may have come while no subscription was up.
    l->primary_.resubscribed();
    l->fresh_wanted_ = true;
    if (!l->asking_) l->ask();
    return;
  }
  // The connection is dropped by then, or will be (timeout): the next one
  // subscribes again.
  log_line(LogLevel::kWarn, "redis sentinel: SUBSCRIBE +switch-master failed",
           {{"client", l->name_},
            {"error", result.status == RedisStatus::kErrorReply
                          ? std::string(result.error)
                          : std::string(redis_status_name(result.status))}});
}

void RedisSentinelLocator::on_message(const redisReply& message) {
  // ["message", channel, payload]
  if (message.elements != 3 || text_of(message.element[1]) != kSwitchMaster) return;
  std::optional<RedisHost> next = parse_switch_master(text_of(message.element[2]), master_name_);
  if (!next) return;
  RedisHost from = primary_.host();
  if (primary_.switched(*next)) moved(from);
}

void RedisSentinelLocator::moved(const RedisHost& from) {
  RedisHost to = primary_.host();
  log_line(LogLevel::kWarn, "redis sentinel: the primary moved",
           {{"client", name_},
            {"master", master_name_},
            {"from", from.host.empty() ? std::string("?") : redis_host_text(from)},
            {"to", redis_host_text(to)}});
  if (status_) status_->primary_at(redis_host_text(to));
  on_switch_(to);
}

void RedisSentinelLocator::on_ping_due(uv_timer_t* timer) {
  RedisSentinelLocator* l = static_cast<PingTimer*>(timer->data)->owner;
  if (l == nullptr || l->ping_out_ || l->watch_->ready_connections() == 0) return;
  const char* argv[] = {"PING"};
  size_t lens[] = {4};
  l->ping_out_ = true;
  l->watch_->command(1, argv, lens, l->timeout_ms_, on_pong, l);
}

void RedisSentinelLocator::on_pong(void* data, const RedisResult&) {
  // No answer in time closes watch_'s connection (max_late_replies 0): the
  // next one is on the next Sentinel, and subscribes there.
  static_cast<RedisSentinelLocator*>(data)->ping_out_ = false;
}

void RedisSentinelLocator::shutdown(std::function<void()> on_closed) {
  auto left = std::make_shared<int>(3);
  auto done = [left, on_closed = std::move(on_closed)] {
    if (--*left == 0 && on_closed) on_closed();
  };
  if (PingTimer* ping = std::exchange(ping_, nullptr)) {
    ping->owner = nullptr;
    ping->on_closed = done;
    close_handle(reinterpret_cast<uv_handle_t*>(&ping->handle), [](uv_handle_t* h) {
      auto* p = static_cast<PingTimer*>(h->data);
      std::function<void()> closed = std::move(p->on_closed);
      delete p;
      closed();
    });
  } else {
    done();
  }
  query_->shutdown(done);
  watch_->shutdown(done);
}

void RedisSentinelLocator::close_now() {
  query_->close_now();
  watch_->close_now();
}

}  // namespace streamshift
