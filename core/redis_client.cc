// Pipelined Redis connections on a libuv loop; see redis_client.h.
#include "core/redis_client.h"

#include "core/completion.h"
#include "core/log.h"
#include "core/redis_connection.h"

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

RedisClient::RedisClient(uv_loop_t* loop, RedisOptions options)
    : loop_(loop),
      options_(std::move(options)),
      jitter_(JitterRandom::seeded(reinterpret_cast<uintptr_t>(this))) {
  for (size_t i = 0; i < options_.connections; ++i) {
    connections_.push_back(new RedisConnection(this, static_cast<int>(i)));
  }
  open_connections_ = connections_.size();
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
  for (RedisConnection* c : connections_) c->start();
}

size_t RedisClient::ready_connections() const {
  size_t n = 0;
  for (const RedisConnection* c : connections_) n += c != nullptr && c->ready() ? 1 : 0;
  return n;
}

void RedisClient::command(const RedisCommandArgs& args, uint64_t timeout_ms, RedisCallback callback,
                          void* data) {
  // The current connection takes every command until it refuses one (it is
  // down, or at its cap); then the next takes over. Spread round robin, the
  // commands of one loop turn left in a write per connection and Redis read
  // and answered them apiece, which showed in the ack tail at 10k/s
  // (docs/BENCHMARKS.md); the other connections stand by, connected.
  RedisStatus refused = RedisStatus::kNotConnected;
  const size_t n = connections_.size();
  for (size_t tries = 0; tries < n && !shutting_down_; ++tries, current_ = (current_ + 1) % n) {
    RedisConnection* c = connections_[current_];
    if (c != nullptr && c->send(args, timeout_ms, callback, data, &refused)) return;
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
  for (RedisConnection* c : connections_) {
    if (c != nullptr) c->shutdown();  // frees itself later, in a close callback
  }
  if (open_connections_ == 0) complete_all(on_closed_);
}

void RedisClient::close_now() {
  if (!shutting_down_) shutdown(nullptr);
  for (RedisConnection* c : connections_) {
    if (c != nullptr) c->close_now();
  }
}

void RedisClient::connection_closed(int index) {
  connections_[static_cast<size_t>(index)] = nullptr;
  if (--open_connections_ == 0) complete_all(on_closed_);
}

}  // namespace streamshift
