// A TCP peer that passes for a Redis server just long enough to turn
// hostile, for the tests of the bounds our Redis client keeps: it answers
// the handshake (PING, AUTH, SELECT) as Redis does, and every other command
// as the test says: some bytes, then more bytes again and again until the
// client hangs up, or nothing at all. Every normal case runs against the
// real redis-server (redis_server.h).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/connection_server.h"

namespace streamshift::testing {

class FakeRedis {
 public:
  struct Reply {
    std::string head;     // sent once
    std::string repeat;   // then sent over and over until the client closes
    bool silent = false;  // nothing is sent
  };
  using Responder = std::function<Reply(const std::vector<std::string>& command)>;

  /// Listens on 127.0.0.1 on a free port.
  explicit FakeRedis(Responder respond);
  ~FakeRedis();
  FakeRedis(const FakeRedis&) = delete;
  FakeRedis& operator=(const FakeRedis&) = delete;

  uint16_t port() const { return server_.port(); }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port()); }
  int connections() const { return server_.accepted(); }
  /// Connections the client closed (while this side waited or kept sending).
  int closed_by_client() const { return closed_by_client_.load(); }
  bool wait_closed_by_client(int n, std::chrono::milliseconds timeout);
  /// The most bytes sent on one connection that the client then closed.
  size_t most_sent_before_close() const { return most_sent_.load(); }

 private:
  void serve(int fd);

  Responder respond_;
  std::atomic<int> closed_by_client_{0};
  std::atomic<size_t> most_sent_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  ConnectionServer server_;  // last: its threads use the members above
};

}  // namespace streamshift::testing
