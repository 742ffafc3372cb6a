// Address and URL parsing; see net_address.h.
#include "core/net_address.h"

#include "core/decimal.h"

namespace streamshift {
namespace {

bool parse_port(std::string_view text, uint16_t* port) {
  std::optional<int64_t> value = parse_decimal(text, 1, 65535);
  if (value) *port = static_cast<uint16_t>(*value);
  return value.has_value();
}

// Splits "host:port" or "[v6]:port"; port_text is empty when absent.
bool split_authority(std::string_view text, std::string* host, std::string_view* port_text) {
  if (text.empty()) return false;
  if (text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    *host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (rest.empty()) {
      *port_text = {};
      return true;
    }
    if (rest.front() != ':') return false;
    *port_text = rest.substr(1);
    return true;
  }
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    *host = std::string(text);
    *port_text = {};
  } else {
    *host = std::string(text.substr(0, colon));
    *port_text = text.substr(colon + 1);
    if (port_text->empty()) return false;
  }
  return !host->empty() && host->find(':') == std::string::npos;
}

}  // namespace

std::optional<HostPort> parse_host_port(std::string_view text) {
  HostPort out;
  std::string_view port_text;
  if (!split_authority(text, &out.host, &port_text) || port_text.empty()) return std::nullopt;
  if (!parse_port(port_text, &out.port)) return std::nullopt;
  return out;
}

std::optional<HttpUrl> parse_http_url(std::string_view text, std::string* why) {
  constexpr std::string_view kScheme = "http://";
  if (text.substr(0, kScheme.size()) != kScheme) {
    *why = "must start with http:// (TLS is not supported)";
    return std::nullopt;
  }
  std::string_view rest = text.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    *why = "credentials in the upstream URL are not supported";
    return std::nullopt;
  }
  HttpUrl url;
  std::string_view port_text;
  if (!split_authority(authority, &url.host, &port_text)) {
    *why = "host is missing or malformed";
    return std::nullopt;
  }
  if (!port_text.empty() && !parse_port(port_text, &url.port)) {
    *why = "port must be 1-65535";
    return std::nullopt;
  }
  if (path.find_first_of("?#") != std::string_view::npos) {
    *why = "query and fragment are not allowed";
    return std::nullopt;
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.path_prefix = std::string(path);
  url.authority = std::string(authority);
  return url;
}

}  // namespace streamshift
