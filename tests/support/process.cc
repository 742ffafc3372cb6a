// Child processes for integration tests; see process.h.
#include "tests/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/support/eventually.h"
#include "tests/support/net.h"

namespace streamshift::testing {

std::string streamshift_binary() {
  return STREAMSHIFT_BINARY;
}

ChildProcess::ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env) {
  char path_template[] = "/tmp/streamshift-test-XXXXXX";
  int log_fd = mkstemp(path_template);
  log_path_ = path_template;
  for (const char* keep :
       {"PATH", "HOME", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"}) {
    if (const char* v = std::getenv(keep); v != nullptr && env.count(keep) == 0) env[keep] = v;
  }
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    // Dies with the test process, even when that one crashes (a sanitizer
    // abort skips the destructors that would stop it).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(log_fd);
}

ChildProcess::~ChildProcess() {
  if (!exited_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (std::getenv("STREAMSHIFT_KEEP_TEST_LOGS") == nullptr) unlink(log_path_.c_str());
}

void ChildProcess::signal(int sig) {
  if (!exited_) kill(pid_, sig);
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
  return eventually([&] { return reap(); }, timeout) ? exit_code_ : -1;
}

bool ChildProcess::reap() {
  if (exited_) return true;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
  exited_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

bool ChildProcess::running() {
  return wait(std::chrono::milliseconds(0)) == -1;
}

std::string ChildProcess::output() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

::testing::AssertionResult ChildProcess::wait_output(const std::string& text,
                                                     std::chrono::milliseconds timeout) const {
  return eventually([&] { return output().find(text) != std::string::npos; }, timeout,
                    "the output shows " + text);
}

Sidecar::Sidecar(uint16_t upstream_port, std::map<std::string, std::string> env) {
  // A port that was free can be taken by another test process before the
  // sidecar binds it: try again on fresh ports when that happens.
  for (int attempt = 0; attempt < 3 && !ready_; ++attempt) {
    port_ = free_port();
    admin_port_ = free_port();
    std::map<std::string, std::string> e = env;
    e.emplace("STREAMSHIFT_LISTEN", "127.0.0.1:" + std::to_string(port_));
    e.emplace("STREAMSHIFT_ADMIN_LISTEN", "127.0.0.1:" + std::to_string(admin_port_));
    e.emplace("STREAMSHIFT_UPSTREAM_URL", "http://127.0.0.1:" + std::to_string(upstream_port));
    e.emplace("LOG_LEVEL", "info");
    // The ThreadSanitizer run sets several workers for every sidecar whose
    // test does not choose a number itself.
    if (const char* workers = std::getenv("STREAMSHIFT_TEST_WORKERS"))
      e.emplace("STREAMSHIFT_WORKERS", workers);
    workers_ = e.count("STREAMSHIFT_WORKERS") ? std::stoi(e["STREAMSHIFT_WORKERS"]) : 1;
    redis_max_connections_ =
        e.count("REDIS_MAX_CONNECTIONS") ? std::stoi(e["REDIS_MAX_CONNECTIONS"]) : 30;
    process_ =
        std::make_unique<ChildProcess>(std::vector<std::string>{streamshift_binary(), "proxy"}, e);
    bool listening = false;
    eventually(
        [&] {
          listening = process_->output().find("\"msg\":\"listening\"") != std::string::npos;
          return listening || !process_->running();
        },
        std::chrono::seconds(10));
    // The admin listener runs on a thread of its own and can come up after
    // the workers: wait for it too when it is the fixture's.
    bool own_admin = env.count("STREAMSHIFT_ADMIN_LISTEN") == 0;
    ready_ = listening && wait_port_open(port_, std::chrono::seconds(5)) &&
             (!own_admin || wait_port_open(admin_port_, std::chrono::seconds(5)));
    if (!ready_ && process_->output().find("EADDRINUSE") == std::string::npos) break;
  }
}

::testing::AssertionResult Sidecar::wait_redis_connected(std::string_view client,
                                                         size_t nodes) const {
  std::string line = "\"msg\":\"redis connected\",\"client\":\"" + std::string(client) + "\"";
  // The transport: every worker's connections (the sidecar's own split of
  // REDIS_MAX_CONNECTIONS, at most 4 each), or an event could meet a worker
  // still connecting. The admin listener: one.
  size_t expected = 1;
  if (client == "events") {
    int per_worker = std::clamp(redis_max_connections_ / std::max(workers_, 1), 1, 4);
    expected = static_cast<size_t>(workers_ * per_worker) * nodes;
  }
  size_t seen = 0;
  ::testing::AssertionResult connected = eventually(
      [&] {
        std::string out = process_->output();
        seen = 0;
        for (size_t at = out.find(line); at != std::string::npos; at = out.find(line, at + 1))
          ++seen;
        return seen >= expected;
      },
      std::chrono::seconds(10));
  if (!connected) {
    connected << "\n"
              << seen << " of " << expected << " Redis connections up\n"
              << process_->output();
  }
  return connected;
}

RelayProcess::RelayProcess(const std::string& redis_url, uint16_t target_port,
                           std::map<std::string, std::string> env) {
  for (int attempt = 0; attempt < 3 && !ready_; ++attempt) {
    admin_port_ = free_port();
    std::map<std::string, std::string> e = env;
    e.emplace("REDIS_URL", redis_url);
    e.emplace("STREAMSHIFT_RELAY_TARGET_URL", "http://127.0.0.1:" + std::to_string(target_port));
    e.emplace("STREAMSHIFT_ADMIN_LISTEN", "127.0.0.1:" + std::to_string(admin_port_));
    e.emplace("LOG_LEVEL", "info");
    process_ =
        std::make_unique<ChildProcess>(std::vector<std::string>{streamshift_binary(), "relay"}, e);
    ready_ = eventually(
        [&] {
          if (!process_->running()) return true;
          std::optional<ParsedResponse> r = http_get(admin_port_, "/readyz");
          return r && r->status == 200;
        },
        std::chrono::seconds(10));
    ready_ = ready_ && process_->running();
    if (!ready_ && process_->output().find("EADDRINUSE") == std::string::npos) break;
  }
}

double RelayProcess::metric(std::string_view series) const {
  return metric_sample(admin_port_, series).value_or(0);
}

}  // namespace streamshift::testing
