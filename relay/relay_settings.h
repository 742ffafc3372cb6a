// The relay's configuration, read from the environment once at start.
// `streamshift check-config relay` prints the effective values; names and
// defaults are documented in README.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/env_config.h"
#include "core/log.h"
#include "core/net_address.h"
#include "core/redis_client.h"
#include "core/redis_tls.h"
#include "core/redis_url.h"
#include "core/stream_shards.h"

namespace streamshift {

/// STREAMSHIFT_RELAY_CONCURRENCY's upper bound, and so the target pool's
/// connection cap: the concurrency may change at runtime, the pool is made once
/// (it opens connections only as deliveries need them).
inline constexpr size_t kMaxRelayConcurrency = 4096;

/// STREAMSHIFT_RELAY_ORDERING: what one delivery waits for (room_queues.h).
enum class RelayOrdering {
  kRoom,  // a room's next entry waits for its previous one: per-room stream order
  kNone,  // entries start as slots free up, whatever their room (the HTTP bridge's way)
};

struct RelaySettings {
  HttpUrl target;  // STREAMSHIFT_RELAY_TARGET_URL: the SignalR internal API
  RedisEndpoint redis;
  std::shared_ptr<const RedisTlsContext> redis_tls;  // rediss://: shared by both connections
  uint64_t redis_connect_timeout_ms = 1000;
  uint64_t redis_timeout_ms = 2000;  // every command but the blocking read
  /// The physical streams consumed: every shard of every logical stream
  /// (core/stream_shards.h), logical-major; the logical streams themselves
  /// when unsharded (tests that build settings by hand set only these).
  std::vector<std::string> streams;
  std::vector<std::string> logical_streams;  // STREAMSHIFT_STREAMS; empty: `streams`
  int stream_shards = 1;                     // EVENT_TRANSPORT_STREAM_SHARDS
  std::string group;
  std::string consumer;              // STREAMSHIFT_CONSUMER_NAME, else the host name
  std::string group_start_id = "0";  // where a (re)created group starts
  int64_t read_count = 100;
  uint64_t block_ms = 2000;
  size_t concurrency = 32;                        // at most kMaxRelayConcurrency
  RelayOrdering ordering = RelayOrdering::kRoom;  // fixed at start
  /// Entries of one room held in memory at most with ordering room (none:
  /// no per-room cap); the rest wait pending in Redis (room_budget.h). A
  /// constant: 16 keeps a room's burst in memory while one failing room
  /// takes a small share of max_held().
  static constexpr size_t kRoomMaxHeld = 16;
  int max_deliveries = 5;
  std::string dlq_stream = "events:dlq";
  int64_t dlq_max_len = 100000;
  uint64_t claim_idle_ms = 30000;
  uint64_t dedup_ttl_s = 300;  // 0: no de-duplication
  std::string dedup_prefix = "streamshift:delivered:";
  uint64_t delivery_timeout_ms = 5000;
  uint64_t connect_timeout_ms = 1000;
  size_t max_response_bytes = 8 * 1024 * 1024;  // STREAMSHIFT_MAX_RESPONSE_BYTES
  uint64_t retry_initial_ms = 100;
  uint64_t retry_max_ms = 5000;
  uint64_t lag_interval_ms = 5000;
  /// Idle consumers without pending entries are deleted after this long
  /// (relay/idle_consumers.h); 0: never.
  uint64_t consumer_idle_delete_ms = 3600000;
  uint64_t drain_timeout_ms = 15000;
  HostPort admin_listen;
  std::string admin_token;   // STREAMSHIFT_ADMIN_TOKEN: POST /runtime_modify's bearer token
  std::string runtime_dir;   // STREAMSHIFT_RUNTIME_DIR (core/runtime_control.h)
  std::string headers_file;  // STREAMSHIFT_RELAY_HEADERS_FILE (relay/target_headers.h)
  /// The headers file's "Name: value\r\n" lines in force: read at start
  /// (load_relay_headers), replaced on the main loop when the file changes.
  std::string target_headers;
  LogLevel log_level = LogLevel::kInfo;

  /// Entries the relay holds at most (queued, in delivery, being acked):
  /// reads ask for no more than what is left of it, so nothing waits long
  /// enough in the relay's own queue to look abandoned to the other relays.
  /// With ordering room, one room holds kRoomMaxHeld of it at most.
  size_t max_held() const { return static_cast<size_t>(read_count) * 2 + concurrency; }

  /// The logical streams and their shards.
  StreamShards shard_layout() const;
  /// The physical streams each blocking read covers (one reading
  /// connection each): per shard index, and per slot on Redis Cluster.
  std::vector<std::vector<size_t>> read_groups() const;
  /// Delivered marks carry their stream's hash tag (so the ack script's keys
  /// share a slot) when sharded or on a cluster; otherwise the unsharded
  /// key format, so an upgrade keeps the marks.
  bool tagged_marks() const;
};

/// Reads every variable through `env`; invalid values are recorded in
/// env.errors() (the returned settings then hold defaults for them).
RelaySettings load_relay_settings(EnvReader& env);

/// Reads STREAMSHIFT_RELAY_HEADERS_FILE's file into `s.target_headers` (a
/// file read, so not part of load_relay_settings, which also validates
/// runtime changes): a missing or invalid file is recorded in env.errors(),
/// naming the path and the line, never a value. Returns the names read.
std::vector<std::string> load_relay_headers(EnvReader& env, RelaySettings& s);

/// A Redis client named `name` (in log lines) for `s`'s Redis: endpoint, TLS
/// and connect timeout; one connection, the rest defaults.
RedisOptions relay_redis_options(const RelaySettings& s, std::string name);

}  // namespace streamshift
