// Parsing of listen addresses ("host:port") and http:// URLs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace streamshift {

struct HostPort {
  std::string host;  // brackets removed from IPv6 literals
  uint16_t port = 0;
};

/// "127.0.0.1:15001", "[::1]:15001", "0.0.0.0:80". The port is required.
std::optional<HostPort> parse_host_port(std::string_view text);

struct HttpUrl {
  std::string host;
  uint16_t port = 80;
  std::string path_prefix;  // "" or "/base" without a trailing slash
  /// The Host header value toward this URL ("host" or "host:port").
  std::string authority;
};

/// "http://host[:port][/prefix]". https is refused (no TLS in the sidecar).
std::optional<HttpUrl> parse_http_url(std::string_view text, std::string* why);

}  // namespace streamshift
