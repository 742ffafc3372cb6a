// The test upstream server; see test_upstream.h.
#include "tests/support/test_upstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "tests/support/net.h"

namespace streamshift::testing {
namespace {

std::string serialize(const UpstreamReply& reply) {
  if (reply.raw) return *reply.raw;
  std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + reply.reason + "\r\n";
  bool has_length = false;
  for (const auto& [n, v] : reply.headers) {
    out += n + ": " + v + "\r\n";
    has_length = has_length || iequal(n, "content-length");
  }
  if (!has_length) out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
  out += "\r\n";
  out += reply.body;
  return out;
}

}  // namespace

std::optional<std::string> ReceivedRequest::header(std::string_view name) const {
  return find_header(headers, name);
}

size_t ReceivedRequest::header_count(std::string_view name) const {
  return static_cast<size_t>(std::count_if(headers.begin(), headers.end(),
                                           [&](const auto& h) { return iequal(h.first, name); }));
}

TestUpstream::TestUpstream() {
  handler_ = [](const ReceivedRequest&) {
    UpstreamReply r;
    r.body = "ok";
    return r;
  };
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  listen(listen_fd_, 512);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TestUpstream::~TestUpstream() {
  stopping_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  close(listen_fd_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : workers_) t.join();
}

void TestUpstream::set_handler(Handler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(handler);
}

std::vector<ReceivedRequest> TestUpstream::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t TestUpstream::request_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_.size();
}

bool TestUpstream::wait_for_requests(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
}

void TestUpstream::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int id = ++connections_;
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd, id] { serve(fd, id); });
  }
}

void TestUpstream::serve(int fd, int connection) {
  std::string buffer;
  char chunk[65536];
  auto fill = [&]() {
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
    return true;
  };
  while (!stopping_) {
    size_t end;
    bool open = true;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos && (open = fill())) {
    }
    if (!open) break;
    ReceivedRequest req;
    req.connection = connection;
    std::string_view head(buffer.data(), end + 4);
    size_t line_end = head.find("\r\n");
    std::string_view line = head.substr(0, line_end);
    size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
    req.method = std::string(line.substr(0, sp1));
    req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
    parse_header_lines(head, line_end + 2, end, &req.headers);
    size_t length = 0;
    if (auto cl = req.header("content-length")) length = std::stoul(*cl);
    while (buffer.size() < end + 4 + length && (open = fill())) {
    }
    if (!open) break;
    req.body = buffer.substr(end + 4, length);
    req.raw = buffer.substr(0, end + 4 + length);
    buffer.erase(0, end + 4 + length);

    Handler handler;
    {
      std::lock_guard<std::mutex> lock(mu_);
      handler = handler_;
    }
    UpstreamReply reply = handler(req);
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
    }
    cv_.notify_all();
    if (reply.delay.count() > 0)
      std::this_thread::sleep_for(reply.delay);  // the upstream being slow
    if (reply.close_without_answer) break;
    if (!send_all(fd, serialize(reply))) break;
    if (reply.close_after) break;
  }
  shutdown(fd, SHUT_RDWR);
  std::lock_guard<std::mutex> lock(mu_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  close(fd);
  ++closed_;
  cv_.notify_all();
}

bool TestUpstream::wait_for_closed(int n, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return closed_.load() >= n; });
}

}  // namespace streamshift::testing
