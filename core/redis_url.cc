// REDIS_URL parsing; see redis_url.h.
#include "core/redis_url.h"

#include <charconv>

#include "core/net_address.h"

namespace streamshift {
namespace {

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      unsigned v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

void append_percent_encoded(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') ||
                      u == '-' || u == '.' || u == '_' || u == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
}

}  // namespace

std::optional<RedisEndpoint> parse_redis_url(std::string_view url, std::string* why) {
  RedisEndpoint ep;
  std::string_view rest;
  if (url.starts_with("redis://")) {
    rest = url.substr(8);
  } else if (url.starts_with("rediss://")) {
    rest = url.substr(9);
    ep.tls = true;
  } else {
    *why = "must start with redis:// or rediss://";
    return std::nullopt;
  }
  size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      ep.password = percent_decode(userinfo);  // redis://password@host
    } else {
      ep.user = percent_decode(userinfo.substr(0, colon));
      ep.password = percent_decode(userinfo.substr(colon + 1));
    }
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) {
      auto [p, ec] = std::from_chars(db.data(), db.data() + db.size(), ep.db);
      if (ec != std::errc() || p != db.data() + db.size() || ep.db < 0 || ep.db > 15) {
        *why = "database must be a number from 0 to 15";
        return std::nullopt;
      }
    }
  }
  std::string with_port(authority);
  if (with_port.empty()) {
    *why = "host is missing";
    return std::nullopt;
  }
  bool has_port = with_port.back() != ']' && with_port.rfind(':') != std::string::npos &&
                  (with_port.front() != '[' || with_port.find("]:") != std::string::npos);
  if (!has_port) with_port += ":6379";
  auto hp = parse_host_port(with_port);
  if (!hp) {
    *why = "host or port is malformed";
    return std::nullopt;
  }
  for (char c : hp->host) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '/' || c == '@' || c == '?' || c == '#') {
      *why = "host has a character no host name or address has";
      return std::nullopt;
    }
  }
  ep.host = hp->host;
  ep.port = hp->port;
  return ep;
}

std::string redacted_redis_url(const RedisEndpoint& ep) {
  std::string out = ep.tls ? "rediss://" : "redis://";
  if (!ep.user.empty() || !ep.password.empty()) {
    append_percent_encoded(out, ep.user);
    out += ep.password.empty() ? ":@" : ":****@";
  }
  bool v6 = ep.host.find(':') != std::string::npos;
  if (v6) out += '[';
  out += ep.host;
  if (v6) out += ']';
  out += ':';
  out += std::to_string(ep.port);
  out += '/';
  out += std::to_string(ep.db);
  return out;
}

}  // namespace streamshift
