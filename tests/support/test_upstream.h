// A real HTTP/1.1 upstream for integration tests: blocking sockets, one
// thread per connection, keep-alive, every request recorded byte for byte.
// Its behaviour per request is decided by a handler (delay, close, status).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/connection_server.h"

namespace streamshift::testing {

struct ReceivedRequest {
  std::string raw;  // head and body exactly as received
  std::string method, target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int connection = 0;  // which accepted connection carried it (1-based)

  std::optional<std::string> header(std::string_view name) const;
  size_t header_count(std::string_view name) const;
};

struct UpstreamReply {
  int status = 200;
  std::string reason = "OK";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds delay{0};
  bool close_after = false;           // close the connection after answering
  bool close_without_answer = false;  // close at once, answering nothing
  std::optional<std::string> raw;     // send these bytes instead
};

class TestUpstream {
 public:
  using Handler = std::function<UpstreamReply(const ReceivedRequest&)>;

  /// Listens on 127.0.0.1 on a free port. The default handler answers 200
  /// with body "ok".
  TestUpstream();
  ~TestUpstream();
  TestUpstream(const TestUpstream&) = delete;
  TestUpstream& operator=(const TestUpstream&) = delete;

  uint16_t port() const { return server_.port(); }
  void set_handler(Handler handler);

  std::vector<ReceivedRequest> requests() const;
  size_t request_count() const;
  int connections_accepted() const { return server_.accepted(); }
  /// Connections this server has closed (or seen closed) so far.
  int connections_closed() const { return closed_.load(); }
  /// Waits until at least n connections have been closed.
  bool wait_for_closed(int n, std::chrono::milliseconds timeout);
  /// Waits until at least n requests have arrived.
  bool wait_for_requests(size_t n, std::chrono::milliseconds timeout);

 private:
  void serve(int fd, int connection);

  std::atomic<int> closed_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Handler handler_;
  std::vector<ReceivedRequest> requests_;
  ConnectionServer server_;  // last: its threads use the members above
};

}  // namespace streamshift::testing
