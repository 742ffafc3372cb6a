// One thread per connection on a loopback listener; see connection_server.h.
#include "tests/support/connection_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "tests/support/net.h"

namespace streamshift::testing {

ConnectionServer::ConnectionServer(Serve serve, Closed closed)
    : serve_(std::move(serve)), closed_(std::move(closed)) {
  listen_fd_ = listen_loopback(&port_, 512);
  acceptor_ = std::thread([this] { accept_loop(); });
}

ConnectionServer::~ConnectionServer() {
  stop();
}

void ConnectionServer::stop() {
  if (stopping_.exchange(true)) return;
  shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  close(listen_fd_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : workers_) t.join();
}

void ConnectionServer::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int id = ++accepted_;
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd, id] {
      serve_(fd, id);
      shutdown(fd, SHUT_RDWR);
      {
        std::lock_guard<std::mutex> guard(mu_);
        open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
        close(fd);
      }
      if (closed_) closed_(id);
    });
  }
}

}  // namespace streamshift::testing
