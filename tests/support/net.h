// Blocking socket helpers for tests: free ports, connecting, a small HTTP
// client that parses responses (Content-Length, chunked or close-delimited)
// and keeps leftover bytes for pipelined answers.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace streamshift::testing {

/// A port that was free a moment ago on 127.0.0.1.
uint16_t free_port();

/// A socket listening on 127.0.0.1 on a port the kernel picks, written to
/// `port`; -1 on failure.
int listen_loopback(uint16_t* port, int backlog);

/// Connects to 127.0.0.1:port; -1 on failure.
int connect_loopback(uint16_t port);

/// Polls until a TCP connect to the port succeeds or the deadline passes.
bool wait_port_open(uint16_t port, std::chrono::milliseconds timeout);

bool send_all(int fd, std::string_view data);

using HeaderList = std::vector<std::pair<std::string, std::string>>;

bool iequal(std::string_view a, std::string_view b);
/// Parses the "Name: value" lines of head[first_line, end) into `out`.
void parse_header_lines(std::string_view head, size_t first_line, size_t end, HeaderList* out);
/// The first value of `name` in `headers` (case-insensitive).
std::optional<std::string> find_header(const HeaderList& headers, std::string_view name);

struct ParsedResponse {
  int status = 0;
  std::string reason;
  HeaderList headers;
  std::string body;
  std::string raw_head;

  std::optional<std::string> header(std::string_view name) const;
};

class TestClient {
 public:
  explicit TestClient(uint16_t port);
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  bool send(std::string_view data) { return send_all(fd_, data); }

  /// Reads one response; nullopt on timeout, EOF or garbage.
  std::optional<ParsedResponse> read_response(
      std::chrono::milliseconds timeout = std::chrono::seconds(5), bool head_request = false);
  /// Sends and reads one response.
  std::optional<ParsedResponse> request(
      std::string_view raw, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// True if the peer closed the connection (EOF) within the timeout.
  bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Reads raw bytes until `needle` is seen; everything read so far is returned.
  std::string read_until(std::string_view needle, std::chrono::milliseconds timeout);

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

/// "POST /path HTTP/1.1" request with Host, Content-Length and `extra` headers.
std::string make_request(std::string_view method, std::string_view target,
                         std::string_view body = {}, std::string_view extra_headers = {});

/// `s` written `n` times over (header floods, long lines).
std::string repeat(std::string_view s, size_t n);

/// GET `path` on 127.0.0.1:port; nullopt when nothing answered.
std::optional<ParsedResponse> http_get(uint16_t port, std::string_view path);

/// The value of one sample ("name" or "name{labels}", exactly as exposed)
/// in a Prometheus scrape of 127.0.0.1:port/metrics; nullopt when absent.
std::optional<double> metric_sample(uint16_t port, std::string_view series);

}  // namespace streamshift::testing
