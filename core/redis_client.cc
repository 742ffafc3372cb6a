// Pipelined Redis connections on a libuv loop; see redis_client.h.
#include "core/redis_client.h"

#include <algorithm>

#include "core/completion.h"
#include "core/log.h"
#include "core/redis_connection.h"
#include "core/redis_sentinel_locator.h"

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
    case RedisStatus::kNotReplicated:
      return "not_replicated";
  }
  return "unknown";
}

RedisClient::RedisClient(uv_loop_t* loop, RedisOptions options)
    : loop_(loop),
      options_(std::move(options)),
      jitter_(JitterRandom::seeded(reinterpret_cast<uintptr_t>(this))),
      first_host_(options_.hosts.empty() ? 0 : jitter_.next() % options_.hosts.size()) {
  for (size_t i = 0; i < options_.connections; ++i) {
    connections_.push_back(new RedisConnection(this, static_cast<int>(i)));
  }
  open_parts_ = connections_.size();
  if (options_.endpoint.sentinel_mode()) {
    options_.backoff_max_ms = std::min(options_.backoff_max_ms, kSentinelBackoffMaxMs);
    locator_ = std::make_unique<RedisSentinelLocator>(
        loop, options_, [this](const RedisHost& primary) { primary_moved(primary); });
    ++open_parts_;
  }
}

// A connection still here was never shut down. If the loop has closed its
// timers (close_loop) it can go; otherwise libuv still holds them and it is
// left rather than freed under libuv.
RedisClient::~RedisClient() {
  for (RedisConnection* c : connections_) {
    if (c == nullptr) continue;
    if (c->handles_closed()) {
      delete c;
    } else {
      log_line(LogLevel::kError, "redis client destroyed before it was shut down",
               {{"client", options_.name}});
    }
  }
}

void RedisClient::start() {
  if (options_.primary_status) options_.primary_status->watching();
  if (locator_) locator_->start();
  for (RedisConnection* c : connections_) c->start();
}

void RedisClient::primary_moved(const RedisHost& primary) {
  for (RedisConnection* c : connections_) {
    if (c != nullptr) c->primary_moved(primary);
  }
}

size_t RedisClient::ready_connections() const {
  size_t n = 0;
  for (const RedisConnection* c : connections_) n += c != nullptr && c->ready() ? 1 : 0;
  return n;
}

void RedisClient::command(const RedisCommandArgs& args, uint64_t timeout_ms, RedisCallback callback,
                          void* data) {
  // The current connection takes every command, so that a loop turn's
  // commands leave in one write and Redis reads and answers them in one go
  // (spread round robin, they cost Redis a read and a write per connection,
  // which showed in the ack tail: docs/BENCHMARKS.md). The next one takes
  // over when it refuses one (down, or at its cap), when it owes a reply
  // past its deadline (stalled: it keeps what it has, nothing more is piled
  // on), and once every rotate_ms, so that every connection carries
  // traffic and one that died idle is found under load. Only when every
  // connection is behind does a behind one take commands.
  RedisStatus refused = RedisStatus::kNotConnected;
  const size_t n = connections_.size();
  const uint64_t now = uv_now(loop_);
  if (now - current_since_ >= options_.rotate_ms) advance(now);
  for (int pass = 0; pass < 2 && !shutting_down_; ++pass) {
    for (size_t tries = 0; tries < n; ++tries) {
      RedisConnection* c = connections_[current_];
      if (c != nullptr && (pass == 1 || !c->behind()) &&
          c->send(args, timeout_ms, callback, data, &refused))
        return;
      advance(now);
    }
  }
  RedisResult result;
  result.status = refused;
  callback(data, result);
}

void RedisClient::advance(uint64_t now) {
  current_ = (current_ + 1) % connections_.size();
  current_since_ = now;
}

void RedisClient::shutdown(std::function<void()> on_closed) {
  if (!begin_shutdown(shutting_down_, open_parts_, on_closed_, std::move(on_closed))) return;
  for (RedisConnection* c : connections_) {
    if (c != nullptr) c->shutdown();  // frees itself later, in a close callback
  }
  if (locator_) locator_->shutdown([this] { part_closed(); });
  if (open_parts_ == 0) complete_all(on_closed_);
}

void RedisClient::close_now() {
  if (!shutting_down_) shutdown(nullptr);
  for (RedisConnection* c : connections_) {
    if (c != nullptr) c->close_now();
  }
  if (locator_) locator_->close_now();
}

void RedisClient::connection_closed(int index) {
  connections_[static_cast<size_t>(index)] = nullptr;
  part_closed();
}

void RedisClient::part_closed() {
  if (--open_parts_ == 0) complete_all(on_closed_);
}

}  // namespace streamshift
