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
//
// Redis Cluster:
//   redis-cluster://[[user]:password@]host[:port][,host[:port]...][/0]
// lists seed nodes (default port 6379): any one that answers gives the
// cluster's topology (CLUSTER SLOTS, core/redis_cluster_slots.h). A cluster
// has only database 0: another is refused. rediss-cluster:// is TLS to
// every node.
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

/// `host` (brackets removed from an IPv6 literal) could be a host name or
/// address: not empty, printable ASCII, none of " /@?#,[]".
bool plausible_redis_host(std::string_view host);

/// How the data nodes are found: the URL's scheme.
enum class RedisMode {
  kStandalone,  // redis://, rediss://: host:port
  kSentinel,    // redis[s]-sentinel://: asked of `sentinels`
  kCluster,     // redis[s]-cluster://: the topology asked of `cluster_seeds`
};

struct RedisEndpoint {
  std::string host;  // sentinel and cluster modes: empty (the nodes are looked up)
  uint16_t port = 6379;
  std::string user;      // ACL user; empty means "default" (AUTH password)
  std::string password;  // empty means no AUTH
  int db = 0;
  bool tls = false;  // rediss://, rediss-sentinel://, rediss-cluster://
  /// Not empty: sentinel mode, the primary of `master_name` is asked of these.
  std::vector<RedisHost> sentinels;
  std::string master_name;
  std::string sentinel_user;      // REDIS_SENTINEL_USERNAME
  std::string sentinel_password;  // REDIS_SENTINEL_PASSWORD; empty means no AUTH
  /// Not empty: cluster mode, the topology is asked of these.
  std::vector<RedisHost> cluster_seeds;

  bool sentinel_mode() const { return !sentinels.empty(); }
  bool cluster_mode() const { return !cluster_seeds.empty(); }
  RedisMode mode() const {
    if (sentinel_mode()) return RedisMode::kSentinel;
    return cluster_mode() ? RedisMode::kCluster : RedisMode::kStandalone;
  }
};

/// The accepted shape, for help texts and errors.
inline constexpr std::string_view kRedisUrlFormat =
    "redis[s]://[[user]:password@]host[:port][/db] or "
    "redis[s]-sentinel://[[user]:password@]host[:port][,host[:port]...][/db]#master-name or "
    "redis[s]-cluster://[[user]:password@]host[:port][,host[:port]...][/0]";

/// Parses the URL; on failure returns nullopt and says why (never echoing the password).
std::optional<RedisEndpoint> parse_redis_url(std::string_view url, std::string* why);

/// The endpoint as a URL that parses back to it, the password shown as
/// "****": redis[s]://[user]:****@host:port/db (or the sentinel or cluster
/// form, every host with its port). Built from the parsed fields only, so no byte of the
/// password can appear.
std::string redacted_redis_url(const RedisEndpoint& endpoint);

}  // namespace streamshift
