// A freezable TCP relay; see tcp_relay.h.
#include "tests/support/tcp_relay.h"

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <string_view>

#include "tests/support/net.h"

namespace streamshift::testing {
namespace {

// How often a waiting connection thread looks whether the relay stops.
constexpr std::chrono::milliseconds kStopCheck(50);

}  // namespace

TcpRelay::TcpRelay(uint16_t target_port)
    : target_port_(target_port), server_([this](int fd, int) { forward(fd); }) {}

void TcpRelay::freeze() {
  std::lock_guard<std::mutex> lock(mu_);
  frozen_ = true;
}

void TcpRelay::thaw() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    frozen_ = false;
  }
  thawed_.notify_all();
}

bool TcpRelay::frozen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return frozen_;
}

bool TcpRelay::wait_thawed() {
  std::unique_lock<std::mutex> lock(mu_);
  while (frozen_ && !server_.stopping()) thawed_.wait_for(lock, kStopCheck);
  return !server_.stopping();
}

bool TcpRelay::move_chunk(int from, int to) {
  char buf[16384];
  std::lock_guard<std::mutex> lock(mu_);
  if (frozen_) return true;  // frozen between poll() and here: the bytes stay where they are
  ssize_t n = read(from, buf, sizeof buf);
  return n > 0 && send_all(to, std::string_view(buf, static_cast<size_t>(n)));
}

void TcpRelay::forward(int client_fd) {
  int target_fd = connect_loopback(target_port_);
  if (target_fd < 0) return;
  bool open = true;
  while (open && wait_thawed()) {
    pollfd fds[2] = {{client_fd, POLLIN, 0}, {target_fd, POLLIN, 0}};
    if (poll(fds, 2, static_cast<int>(kStopCheck.count())) <= 0) continue;
    if (fds[0].revents != 0) open = move_chunk(client_fd, target_fd);
    if (open && fds[1].revents != 0) open = move_chunk(target_fd, client_fd);
  }
  close(target_fd);
}

}  // namespace streamshift::testing
