// The test upstream server; see test_upstream.h.
#include "tests/support/test_upstream.h"

#include <sys/socket.h>

#include <algorithm>
#include <thread>

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

TestUpstream::TestUpstream()
    : server_([this](int fd, int connection) { serve(fd, connection); },
              [this](int) {
                std::lock_guard<std::mutex> lock(mu_);
                ++closed_;
                cv_.notify_all();
              }) {
  handler_ = [](const ReceivedRequest&) {
    UpstreamReply r;
    r.body = "ok";
    return r;
  };
}

TestUpstream::~TestUpstream() {
  server_.stop();
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

void TestUpstream::serve(int fd, int connection) {
  std::string buffer;
  char chunk[65536];
  auto fill = [&]() {
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
    return true;
  };
  while (!server_.stopping()) {
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
}

bool TestUpstream::wait_for_closed(int n, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return closed_.load() >= n; });
}

}  // namespace streamshift::testing
