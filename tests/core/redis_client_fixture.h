// The Redis client tests' fixture: a RedisClient on a loop the test
// drives, commands sent and awaited, their outcomes recorded.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/redis_client.h"

namespace streamshift::redis_test {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

inline long long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - t).count();
}

struct Outcome {
  std::optional<RedisStatus> status;
  std::string text;
  long long integer = 0;  // an integer reply's
};

inline void record(void* data, const RedisResult& r) {
  auto* o = static_cast<Outcome*>(data);
  EXPECT_FALSE(o->status.has_value()) << "callback ran twice";
  o->status = r.status;
  if (r.reply != nullptr && r.reply->str != nullptr) o->text.assign(r.reply->str, r.reply->len);
  if (r.reply != nullptr && r.reply->type == REDIS_REPLY_INTEGER) o->integer = r.reply->integer;
  if (r.status == RedisStatus::kErrorReply) o->text = std::string(r.error);
}

class RedisClientTest : public ::testing::Test {
 protected:
  RedisClientTest() { uv_loop_init(&loop_); }
  ~RedisClientTest() override {
    if (client_) {
      client_->shutdown([] {});
      client_->close_now();
      uv_run(&loop_, UV_RUN_DEFAULT);
    }
    uv_loop_close(&loop_);
  }

  // Short timeouts and backoff, for tests.
  static RedisOptions options(RedisEndpoint endpoint, size_t connections = 1,
                              RedisReplyLimits limits = {}) {
    RedisOptions o;
    o.endpoint = std::move(endpoint);
    o.connections = connections;
    o.limits = limits;
    o.connect_timeout_ms = 500;
    o.backoff_initial_ms = 20;
    o.backoff_max_ms = 100;
    return o;
  }
  void make_client(RedisOptions o) {
    uv_update_time(&loop_);  // a fixture may have waited before: timers start from now
    client_ = std::make_unique<RedisClient>(&loop_, std::move(o));
    client_->start();
  }
  void make_client(RedisEndpoint endpoint, size_t connections = 1, RedisReplyLimits limits = {}) {
    make_client(options(std::move(endpoint), connections, limits));
  }

  static RedisEndpoint local(uint16_t port) {
    RedisEndpoint e;
    e.host = "127.0.0.1";
    e.port = port;
    return e;
  }

  // Runs the loop until `done()` or a deadline.
  template <typename Pred>
  bool run_until(Pred done, milliseconds limit = milliseconds(10000)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      uv_run(&loop_, UV_RUN_NOWAIT);
      std::this_thread::sleep_for(milliseconds(1));
    }
    return true;
  }

  // Runs the loop until `n` connections are ready.
  bool ready(size_t n = 1) {
    return run_until([&] { return client_->ready_connections() == n; });
  }

  // Sends without waiting; `o` records the outcome.
  void start_command(const std::vector<std::string>& args, uint64_t timeout_ms, Outcome* o) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    client_->command(static_cast<int>(argv.size()), argv.data(), lens.data(), timeout_ms, record,
                     o);
  }

  // Sends and runs the loop until the outcome is known.
  Outcome send(const std::vector<std::string>& args, uint64_t timeout_ms = 1000) {
    Outcome o;
    start_command(args, timeout_ms, &o);
    EXPECT_TRUE(run_until([&] { return o.status.has_value(); }));
    return o;
  }

  uv_loop_t loop_;
  std::unique_ptr<RedisClient> client_;
};

}  // namespace streamshift::redis_test
