// Runs the real streamshift binary for integration tests: a chosen
// environment, stdout and stderr captured to a file, signals, exit status.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace streamshift::testing {

/// The binary under test (set by CMake).
std::string streamshift_binary();

class ChildProcess {
 public:
  /// Starts `argv` with the test's PATH and HOME plus `env`.
  ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  /// Waits for exit; returns the exit code, 128+signal if killed, -1 on timeout.
  int wait(std::chrono::milliseconds timeout);
  bool running();
  /// What the process printed so far (stdout and stderr).
  std::string output() const;
  /// Polls output() until it contains `text`; converts to bool.
  ::testing::AssertionResult wait_output(const std::string& text,
                                         std::chrono::milliseconds timeout) const;

 private:
  /// Collects the exit status if the process has ended; true once it has.
  bool reap();

  pid_t pid_ = -1;
  int exit_code_ = -1;
  bool exited_ = false;
  std::string log_path_;
};

/// The sidecar on a free port with an upstream; ready when its port accepts.
class Sidecar {
 public:
  Sidecar(uint16_t upstream_port, std::map<std::string, std::string> env = {});
  uint16_t port() const { return port_; }
  uint16_t admin_port() const { return admin_port_; }
  ChildProcess& process() { return *process_; }
  bool ready() const { return ready_; }
  /// Waits (generously) for the Redis clients to connect: "events" (the
  /// transport: every connection of every worker) or "admin" (the events
  /// API). On failure the message holds the sidecar's output.
  /// `nodes`: on Redis Cluster, the primaries each worker connects to.
  ::testing::AssertionResult wait_redis_connected(std::string_view client = "events",
                                                  size_t nodes = 1) const;

 private:
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
  std::unique_ptr<ChildProcess> process_;
  bool ready_ = false;
  int workers_ = 1;                 // STREAMSHIFT_WORKERS as started
  int redis_max_connections_ = 30;  // REDIS_MAX_CONNECTIONS as started
};

/// `streamshift relay` delivering to `target_port`, consuming from the
/// redis-server at `redis_url`, admin on a free port; ready when /readyz
/// answers 200 (Redis connected, groups created).
class RelayProcess {
 public:
  RelayProcess(const std::string& redis_url, uint16_t target_port,
               std::map<std::string, std::string> env = {});
  uint16_t admin_port() const { return admin_port_; }
  ChildProcess& process() { return *process_; }
  bool ready() const { return ready_; }
  /// A sample from the relay's /metrics (0 when absent).
  double metric(std::string_view series) const;

 private:
  uint16_t admin_port_ = 0;
  std::unique_ptr<ChildProcess> process_;
  bool ready_ = false;
};

}  // namespace streamshift::testing
