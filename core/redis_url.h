// Parsing of REDIS_URL: redis://[[user]:password@]host[:port][/db], or
// rediss:// for TLS (core/redis_tls.h). The default port is 6379 for both,
// as in Redis's own clients: a TLS endpoint on another port (Azure Cache
// for Redis: 6380) says so in the URL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace streamshift {

struct RedisEndpoint {
  std::string host;
  uint16_t port = 6379;
  std::string user;      // ACL user; empty means "default" (AUTH password)
  std::string password;  // empty means no AUTH
  int db = 0;
  bool tls = false;  // rediss://
};

/// The accepted shape, for help texts and errors.
inline constexpr std::string_view kRedisUrlFormat = "redis[s]://[[user]:password@]host[:port][/db]";

/// Parses the URL; on failure returns nullopt and says why (never echoing the password).
std::optional<RedisEndpoint> parse_redis_url(std::string_view url, std::string* why);

/// The endpoint as a URL that parses back to it, the password shown as
/// "****": redis[s]://[user]:****@host:port/db. Built from the parsed fields
/// only, so no byte of the password can appear.
std::string redacted_redis_url(const RedisEndpoint& endpoint);

}  // namespace streamshift
