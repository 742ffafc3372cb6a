// The hostile Redis peer; see fake_redis.h.
#include "tests/support/fake_redis.h"

#include <sys/socket.h>

#include <algorithm>
#include <optional>

#include "tests/support/net.h"

namespace streamshift::testing {
namespace {

// One RESP command (an array of bulk strings) from the front of `buffer`,
// removed from it; nullopt while incomplete.
std::optional<std::vector<std::string>> take_command(std::string& buffer) {
  size_t pos = 0;
  auto line = [&]() -> std::optional<std::string> {
    size_t end = buffer.find("\r\n", pos);
    if (end == std::string::npos) return std::nullopt;
    std::string l = buffer.substr(pos, end - pos);
    pos = end + 2;
    return l;
  };
  auto count = line();
  if (!count || count->empty() || (*count)[0] != '*') return std::nullopt;
  std::vector<std::string> args;
  for (long n = std::stol(count->substr(1)); n > 0; --n) {
    auto len = line();
    if (!len || len->empty() || (*len)[0] != '$') return std::nullopt;
    size_t size = std::stoul(len->substr(1));
    if (buffer.size() < pos + size + 2) return std::nullopt;
    args.push_back(buffer.substr(pos, size));
    pos += size + 2;
  }
  buffer.erase(0, pos);
  return args;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  return s;
}

}  // namespace

FakeRedis::FakeRedis(Responder respond)
    : respond_(std::move(respond)), server_([this](int fd, int) { serve(fd); }) {}

FakeRedis::~FakeRedis() {
  server_.stop();
}

bool FakeRedis::wait_closed_by_client(int n, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return closed_by_client_.load() >= n; });
}

void FakeRedis::serve(int fd) {
  std::string buffer;
  char chunk[65536];
  size_t sent = 0;
  bool client_closed = false;
  while (!server_.stopping() && !client_closed) {
    auto command = take_command(buffer);
    if (!command) {
      ssize_t n = recv(fd, chunk, sizeof chunk, 0);
      client_closed = n <= 0;
      if (n > 0) buffer.append(chunk, static_cast<size_t>(n));
      continue;
    }
    std::string name = command->empty() ? "" : upper((*command)[0]);
    if (name == "PING" || name == "AUTH" || name == "SELECT") {
      std::string answer = name == "PING" ? "+PONG\r\n" : "+OK\r\n";
      client_closed = !send_all(fd, answer);
      sent += answer.size();
      continue;
    }
    Reply reply = respond_(*command);
    if (reply.silent) continue;
    client_closed = !send_all(fd, reply.head);
    sent += reply.head.size();
    if (reply.repeat.empty()) continue;
    std::string block;
    while (block.size() < 65536) block += reply.repeat;
    while (!server_.stopping() && !client_closed) {
      client_closed = !send_all(fd, block);
      if (!client_closed) sent += block.size();
    }
  }
  if (!client_closed || server_.stopping()) return;
  std::lock_guard<std::mutex> lock(mu_);
  ++closed_by_client_;
  most_sent_ = std::max(most_sent_.load(), sent);
  cv_.notify_all();
}

}  // namespace streamshift::testing
