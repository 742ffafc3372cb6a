// REDIS_URL parsing; see redis_url.h.
#include "core/redis_url.h"

#include <algorithm>
#include <charconv>

#include "core/decimal.h"
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

// host[:port] (an IPv6 address in brackets).
bool parse_host(std::string_view text, uint16_t default_port, RedisHost* out, std::string* why) {
  std::string with_port(text);
  if (with_port.empty()) {
    *why = "host is missing";
    return false;
  }
  bool has_port = with_port.back() != ']' && with_port.rfind(':') != std::string::npos &&
                  (with_port.front() != '[' || with_port.find("]:") != std::string::npos);
  if (!has_port) with_port += ":" + std::to_string(default_port);
  auto hp = parse_host_port(with_port);
  if (!hp) {
    *why = "host or port is malformed";
    return false;
  }
  if (!plausible_redis_host(hp->host)) {
    *why = "host has a character no host name or address has";
    return false;
  }
  out->host = hp->host;
  out->port = hp->port;
  return true;
}

void append_host(std::string& out, const std::string& host, uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  if (v6) out += '[';
  out += host;
  if (v6) out += ']';
  out += ':';
  out += std::to_string(port);
}

// host[:port][,host[:port]...] into `hosts`; `what` names one in errors.
bool parse_host_list(std::string_view text, uint16_t default_port, std::string_view what,
                     std::vector<RedisHost>* hosts, std::string* why) {
  size_t from = 0;
  while (from <= text.size()) {
    size_t comma = std::min(text.find(',', from), text.size());
    RedisHost host;
    if (!parse_host(text.substr(from, comma - from), default_port, &host, why)) {
      *why = std::string(what) + " " + std::to_string(hosts->size() + 1) + ": " + *why;
      return false;
    }
    hosts->push_back(std::move(host));
    from = comma + 1;
  }
  return true;
}

constexpr uint16_t kSentinelPort = 26379;

// "redis://", "rediss-sentinel://", ...
std::string scheme_of(bool tls, RedisMode mode) {
  std::string out = tls ? "rediss" : "redis";
  switch (mode) {
    case RedisMode::kStandalone:
      break;
    case RedisMode::kSentinel:
      out += "-sentinel";
      break;
    case RedisMode::kCluster:
      out += "-cluster";
      break;
  }
  return out + "://";
}

}  // namespace

bool plausible_redis_host(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '/' || c == '@' || c == '?' || c == '#' || c == ',' ||
        c == '[' || c == ']') {
      return false;
    }
  }
  return true;
}

std::string redis_host_text(const RedisHost& host) {
  std::string out;
  append_host(out, host.host, host.port);
  return out;
}

std::optional<RedisEndpoint> parse_redis_url(std::string_view url, std::string* why) {
  RedisEndpoint ep;
  std::optional<RedisMode> mode;
  for (RedisMode m : {RedisMode::kStandalone, RedisMode::kSentinel, RedisMode::kCluster}) {
    for (bool tls : {false, true}) {
      std::string scheme = scheme_of(tls, m);
      if (!mode && url.starts_with(scheme)) {  // the first match only: url is trimmed
        mode = m;
        ep.tls = tls;
        url.remove_prefix(scheme.size());
      }
    }
  }
  if (!mode) {
    *why =
        "must start with redis://, rediss://, redis-sentinel://, rediss-sentinel://, "
        "redis-cluster:// or rediss-cluster://";
    return std::nullopt;
  }
  std::string_view rest = url;
  if (*mode == RedisMode::kSentinel) {
    size_t hash = rest.rfind('#');
    if (hash == std::string_view::npos || hash + 1 == rest.size()) {
      *why = "a sentinel URL ends with #master-name (the name the Sentinels monitor)";
      return std::nullopt;
    }
    ep.master_name = percent_decode(rest.substr(hash + 1));
    rest = rest.substr(0, hash);
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
    if (*mode == RedisMode::kCluster && !db.empty() && db != "0") {
      *why = "Redis Cluster has only database 0: end the URL with /0 or with the last host";
      return std::nullopt;
    }
    if (!db.empty()) {
      std::optional<int64_t> number = parse_decimal(db, 0, 15);
      if (!number) {
        *why = "database must be a number from 0 to 15";
        return std::nullopt;
      }
      ep.db = static_cast<int>(*number);
    }
  }
  switch (*mode) {
    case RedisMode::kStandalone: {
      RedisHost host;
      if (!parse_host(authority, 6379, &host, why)) return std::nullopt;
      ep.host = std::move(host.host);
      ep.port = host.port;
      return ep;
    }
    case RedisMode::kSentinel:
      if (authority.empty()) {
        *why = "a sentinel URL lists at least one Sentinel host[:port]";
        return std::nullopt;
      }
      if (!parse_host_list(authority, kSentinelPort, "Sentinel", &ep.sentinels, why)) {
        return std::nullopt;
      }
      break;
    case RedisMode::kCluster:
      if (authority.empty()) {
        *why = "a cluster URL lists at least one seed node host[:port]";
        return std::nullopt;
      }
      if (!parse_host_list(authority, 6379, "seed node", &ep.cluster_seeds, why)) {
        return std::nullopt;
      }
      break;
  }
  ep.port = 0;
  return ep;
}

std::string redacted_redis_url(const RedisEndpoint& ep) {
  std::string out = scheme_of(ep.tls, ep.mode());
  if (!ep.user.empty() || !ep.password.empty()) {
    append_percent_encoded(out, ep.user);
    out += ep.password.empty() ? ":@" : ":****@";
  }
  const std::vector<RedisHost>& hosts = ep.sentinel_mode() ? ep.sentinels : ep.cluster_seeds;
  if (ep.mode() == RedisMode::kStandalone) {
    append_host(out, ep.host, ep.port);
  } else {
    for (size_t i = 0; i < hosts.size(); ++i) {
      if (i > 0) out += ',';
      append_host(out, hosts[i].host, hosts[i].port);
    }
  }
  out += '/';
  out += std::to_string(ep.db);
  if (ep.sentinel_mode()) {
    out += '#';
    append_percent_encoded(out, ep.master_name);
  }
  return out;
}

}  // namespace streamshift
