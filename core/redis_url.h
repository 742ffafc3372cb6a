// Parsing of REDIS_URL: redis://[[user]:password@]host[:port][/db].
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
};

/// Parses the URL; on failure returns nullopt and says why (never echoing the password).
std::optional<RedisEndpoint> parse_redis_url(std::string_view url, std::string* why);

}  // namespace streamshift
