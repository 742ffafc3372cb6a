// Blocking socket helpers for tests; see net.h.
#include "tests/support/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "tests/support/eventually.h"

namespace streamshift::testing {
namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

void parse_header_lines(std::string_view head, size_t first_line, size_t end, HeaderList* out) {
  for (size_t pos = first_line; pos < end;) {
    size_t eol = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, eol - pos);
    size_t colon = line.find(':');
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    out->emplace_back(std::string(line.substr(0, colon)), std::string(value));
    pos = eol + 2;
  }
}

std::optional<std::string> find_header(const HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (iequal(n, name)) return v;
  }
  return std::nullopt;
}

uint16_t free_port() {
  // Below the kernel's ephemeral range (32768-60999 by default), so the
  // tests' own outgoing connections cannot take the port before it is bound.
  // A port is also reserved across test processes with a lock file held
  // until this process exits: the sidecar listens with SO_REUSEPORT, so two
  // sidecars on one port would silently share its connections.
  static std::atomic<uint32_t> state{
      static_cast<uint32_t>(getpid()) * 2654435761u ^
      static_cast<uint32_t>(Clock::now().time_since_epoch().count())};
  mkdir("/tmp/streamshift-test-ports", 0777);
  for (int attempt = 0; attempt < 500; ++attempt) {
    uint32_t x = state.fetch_add(0x9E3779B9u) * 2654435761u;
    auto port = static_cast<uint16_t>(20000 + (x >> 8) % 12000);
    std::string lock_path = "/tmp/streamshift-test-ports/" + std::to_string(port);
    int lock_fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (lock_fd < 0) continue;
    if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      close(lock_fd);  // another test process holds it
      continue;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (ok) return port;  // lock_fd stays open: the reservation lasts until exit
    close(lock_fd);
  }
  return 0;
}

int listen_loopback(uint16_t* port, int backlog) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || listen(fd, backlog) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

int connect_loopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool wait_port_open(uint16_t port, std::chrono::milliseconds timeout) {
  return eventually(
      [&] {
        int fd = connect_loopback(port);
        if (fd >= 0) close(fd);
        return fd >= 0;
      },
      timeout);
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::optional<std::string> ParsedResponse::header(std::string_view name) const {
  return find_header(headers, name);
}

TestClient::TestClient(uint16_t port) : fd_(connect_loopback(port)) {}

TestClient::~TestClient() {
  if (fd_ >= 0) close(fd_);
}

bool TestClient::fill(Clock::time_point deadline) {
  if (eof_) return false;
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(left)) <= 0) return false;
  char buf[65536];
  ssize_t n = recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  buffer_.append(buf, static_cast<size_t>(n));
  return true;
}

std::optional<ParsedResponse> TestClient::read_response(std::chrono::milliseconds timeout,
                                                        bool head_request) {
  auto deadline = Clock::now() + timeout;
  size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline)) return std::nullopt;
  }
  ParsedResponse r;
  r.raw_head = buffer_.substr(0, end + 4);
  std::string_view head(r.raw_head);
  size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  if (status_line.substr(0, 5) != "HTTP/" || status_line.size() < 12) return std::nullopt;
  r.status = std::stoi(std::string(status_line.substr(9, 3)));
  r.reason = std::string(status_line.size() > 13 ? status_line.substr(13) : "");
  parse_header_lines(head, line_end + 2, end, &r.headers);
  buffer_.erase(0, end + 4);
  bool no_body =
      head_request || r.status == 204 || r.status == 304 || (r.status >= 100 && r.status < 200);
  if (no_body) return r;
  if (auto cl = r.header("content-length")) {
    size_t n = std::stoul(*cl);
    while (buffer_.size() < n) {
      if (!fill(deadline)) return std::nullopt;
    }
    r.body = buffer_.substr(0, n);
    buffer_.erase(0, n);
  } else if (auto te = r.header("transfer-encoding"); te && iequal(*te, "chunked")) {
    while (true) {
      size_t eol;
      while ((eol = buffer_.find("\r\n")) == std::string::npos) {
        if (!fill(deadline)) return std::nullopt;
      }
      size_t size = std::stoul(buffer_.substr(0, eol), nullptr, 16);
      while (buffer_.size() < eol + 2 + size + 2) {
        if (!fill(deadline)) return std::nullopt;
      }
      r.body += buffer_.substr(eol + 2, size);
      buffer_.erase(0, eol + 2 + size + 2);
      if (size == 0) break;
    }
  } else {
    while (fill(deadline)) {
    }
    if (!eof_) return std::nullopt;
    r.body = std::move(buffer_);
    buffer_.clear();
  }
  return r;
}

std::optional<ParsedResponse> TestClient::request(std::string_view raw,
                                                  std::chrono::milliseconds timeout) {
  if (!send(raw)) return std::nullopt;
  return read_response(timeout, raw.substr(0, 5) == "HEAD ");
}

bool TestClient::wait_closed(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!eof_) {
    if (!fill(deadline) && !eof_) return false;
  }
  return true;
}

std::string TestClient::read_until(std::string_view needle, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (buffer_.find(needle) == std::string::npos) {
    if (!fill(deadline)) break;
  }
  std::string out = std::move(buffer_);
  buffer_.clear();
  return out;
}

std::string repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

std::string make_request(std::string_view method, std::string_view target, std::string_view body,
                         std::string_view extra_headers) {
  std::string r;
  r += method;
  r += ' ';
  r += target;
  r += " HTTP/1.1\r\nHost: sidecar.test\r\n";
  r += extra_headers;
  if (!body.empty() || method == "POST" || method == "PUT") {
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  r += "\r\n";
  r += body;
  return r;
}

std::optional<ParsedResponse> http_get(uint16_t port, std::string_view path) {
  TestClient client(port);
  if (!client.connected()) return std::nullopt;
  return client.request(make_request("GET", path));
}

std::optional<double> metric_sample(uint16_t port, std::string_view series) {
  std::optional<ParsedResponse> r = http_get(port, "/metrics");
  if (!r || r->status != 200) return std::nullopt;
  std::string_view text = r->body;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.size() > series.size() && line.substr(0, series.size()) == series &&
        line[series.size()] == ' ') {
      return std::stod(std::string(line.substr(series.size() + 1)));
    }
  }
  return std::nullopt;
}

}  // namespace streamshift::testing
