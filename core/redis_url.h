// Parsing of REDIS_URL: redis://[[user]:password@]host[:port][/db], or
// rediss:// for TLS (core/redis_tls.h). The default port is 6379 for both,
// as in Redis's own clients: a TLS endpoint on another port (Azure Cache
// for Redis: 6380) says so in the URL.
//
// Sentinel (the form Lettuce uses):
//   redis-sentinel://[[user]:password@]host[:port][,host[:port]...][/db]#master-name
// lists the Sentinels (default port 26379) and the name of the master they
// watch; the data nodes are found through them (core/redis_sentinel_locator.h).
// user and password are the data nodes'; the Sentinels' own come from
// REDIS_SENTINEL_USERNAME / REDIS_SENTINEL_PASSWORD. rediss-sentinel:// is
// TLS to the data nodes; the Sentinels are always spoken to in plaintext.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace streamshift {

struct RedisHost {
  std::string host;
  uint16_t port = 0;
  bool operator==(const RedisHost&) const = default;
};

/// "host:port" ("[v6]:port").
std::string redis_host_text(const RedisHost& host);

struct RedisEndpoint {
  std::string host;  // sentinel mode: empty (the primary is looked up)
  uint16_t port = 6379;
  std::string user;      // ACL user; empty means "default" (AUTH password)
  std::string password;  // empty means no AUTH
  int db = 0;
  bool tls = false;  // rediss://, rediss-sentinel://
  /// Not empty: sentinel mode, the primary of `master_name` is asked of these.
  std::vector<RedisHost> sentinels;
  std::string master_name;
  std::string sentinel_user;      // REDIS_SENTINEL_USERNAME
  std::string sentinel_password;  // REDIS_SENTINEL_PASSWORD; empty means no AUTH

  bool sentinel_mode() const { return !sentinels.empty(); }
};

/// The accepted shape, for help texts and errors.
inline constexpr std::string_view kRedisUrlFormat =
    "redis[s]://[[user]:password@]host[:port][/db] or "
    "redis[s]-sentinel://[[user]:password@]host[:port][,host[:port]...][/db]#master-name";

/// Parses the URL; on failure returns nullopt and says why (never echoing the password).
std::optional<RedisEndpoint> parse_redis_url(std::string_view url, std::string* why);

/// The endpoint as a URL that parses back to it, the password shown as
/// "****": redis[s]://[user]:****@host:port/db (or the sentinel form, every
/// host with its port). Built from the parsed fields only, so no byte of the
/// password can appear.
std::string redacted_redis_url(const RedisEndpoint& endpoint);

}  // namespace streamshift
