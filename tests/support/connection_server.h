// A listening socket on 127.0.0.1 (a port the kernel picks) whose
// connections are each served on a thread of their own: the base of the
// test servers (TestUpstream, FakeRedis). stop() shuts every connection
// down and joins the threads; their owner calls it before its own members
// go away.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace streamshift::testing {

class ConnectionServer {
 public:
  /// `serve(fd, n)` runs on its own thread for the n-th connection
  /// (1-based); when it returns the socket is closed, then `closed(n)` runs.
  using Serve = std::function<void(int fd, int connection)>;
  using Closed = std::function<void(int connection)>;
  explicit ConnectionServer(Serve serve, Closed closed = nullptr);
  ~ConnectionServer();
  ConnectionServer(const ConnectionServer&) = delete;
  ConnectionServer& operator=(const ConnectionServer&) = delete;

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  bool stopping() const { return stopping_.load(); }
  void stop();

 private:
  void accept_loop();

  Serve serve_;
  Closed closed_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<int> open_fds_;
};

}  // namespace streamshift::testing
