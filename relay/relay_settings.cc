// Reading the relay's environment; see relay_settings.h.
#include "relay/relay_settings.h"

#include <unistd.h>

#include <climits>
#include <utility>

#include "core/redis_key_slot.h"
#include "core/runtime_control.h"
#include "core/stream_settings.h"
#include "core/upstream_settings.h"
#include "relay/target_headers.h"

namespace streamshift {
namespace {

std::string host_name() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (gethostname(buf, sizeof buf) != 0 || buf[0] == '\0') return "relay";
  return buf;
}

uint64_t milliseconds(EnvReader& env, std::string_view name, int64_t fallback, int64_t min,
                      int64_t max, std::string_view help) {
  return static_cast<uint64_t>(env.integer(name, fallback, min, max, help));
}

}  // namespace

StreamShards RelaySettings::shard_layout() const {
  if (logical_streams.empty()) return StreamShards(streams, 1);
  return StreamShards(logical_streams, stream_shards);
}

std::vector<std::vector<size_t>> RelaySettings::read_groups() const {
  return shard_layout().read_groups(redis.mode() == RedisMode::kCluster);
}

bool RelaySettings::tagged_marks() const {
  return stream_shards > 1 || redis.mode() == RedisMode::kCluster;
}

RelaySettings load_relay_settings(EnvReader& env) {
  RelaySettings s;
  if (auto url = env.http_url("STREAMSHIFT_RELAY_TARGET_URL", "http://127.0.0.1:5000",
                              "where entries are delivered: the SignalR internal API"))
    s.target = *url;
  std::optional<RedisEndpoint> url = load_redis_url(env);
  if (url) s.redis = *url;
  s.redis_connect_timeout_ms = load_redis_connect_timeout_ms(env);
  s.redis_tls = load_redis_tls(env, url);
  s.redis_timeout_ms = milliseconds(env, "STREAMSHIFT_RELAY_REDIS_TIMEOUT_MS", 2000, 10, 60000,
                                    "deadline of each Redis command but the blocking read");

  StreamSettings streams =
      load_stream_settings(env, {.streams = "streams the relay consumes (comma-separated)",
                                 .group = "the consumer group the relays share"});
  s.logical_streams = std::move(streams.streams);
  s.stream_shards = load_stream_shards(env);
  check_shardable(env, s.stream_shards, s.logical_streams);
  s.streams = s.shard_layout().physical();
  if (s.tagged_marks()) {
    // A mark is "<prefix>{<the stream's hashed part>}:<id>": that part
    // must be a hash tag itself, or the ack script's keys split slots.
    for (const std::string& name : s.streams) {
      if (redis_hash_tag(name).find_first_of("{}") == std::string_view::npos) continue;
      env.reject("STREAMSHIFT_STREAMS", name,
                 "a name whose braces do not make a hash tag ('{' or '}' outside one \"{tag}\") "
                 "on Redis Cluster: its dedup marks could not share its slot; rename it");
    }
  }
  s.group = std::move(streams.group);
  s.consumer = env.text("STREAMSHIFT_CONSUMER_NAME", "",
                        "this relay's consumer name (default: the host name, i.e. the pod)");
  if (s.consumer.empty()) s.consumer = host_name();
  s.group_start_id = env.choice("STREAMSHIFT_RELAY_GROUP_START", "0", {"0", "$"},
                                "where a created group starts: 0 (all entries) or $ (new only)");

  s.read_count =
      env.integer("STREAMSHIFT_RELAY_READ_COUNT", 100, 1, 10000, "entries per XREADGROUP (COUNT)");
  s.block_ms =
      milliseconds(env, "STREAMSHIFT_RELAY_BLOCK_MS", 2000, 1, 60000, "XREADGROUP BLOCK time");
  s.concurrency =
      static_cast<size_t>(env.integer("STREAMSHIFT_RELAY_CONCURRENCY", 32, 1, kMaxRelayConcurrency,
                                      "deliveries in parallel (rooms, with ordering room)"));
  s.ordering = env.choice("STREAMSHIFT_RELAY_ORDERING", "room", {"room", "none"},
                          "room: a room's entries one at a time, in stream order; none: in "
                          "parallel, unordered (lower latency under a slow target)") == "none"
                   ? RelayOrdering::kNone
                   : RelayOrdering::kRoom;
  s.max_deliveries = static_cast<int>(env.integer("STREAMSHIFT_MAX_DELIVERIES", 5, 1, 1000,
                                                  "attempts before an entry is dead-lettered"));
  s.dlq_stream = load_dlq_stream(env, "the dead-letter stream");
  s.dlq_max_len = env.integer("STREAMSHIFT_DLQ_MAX_LEN", 100000, 1000, 100000000,
                              "approximate length of the dead-letter stream (MAXLEN ~)");
  s.claim_idle_ms =
      milliseconds(env, "STREAMSHIFT_CLAIM_IDLE_MS", 30000, 100, 3600000,
                   "idle time after which another relay's pending entry is taken over");
  s.dedup_ttl_s = static_cast<uint64_t>(
      env.integer("STREAMSHIFT_DEDUP_TTL_S", 300, 0, 604800,
                  "how long a delivered event_id is remembered (0: no de-duplication)"));
  s.dedup_prefix = env.text("STREAMSHIFT_DEDUP_PREFIX",
                            "streamshift:delivered:", "key prefix of the delivered-event_id marks");
  if (s.tagged_marks() && s.dedup_prefix.find_first_of("{}") != std::string::npos) {
    env.reject("STREAMSHIFT_DEDUP_PREFIX", s.dedup_prefix,
               "a prefix without '{' or '}' while EVENT_TRANSPORT_STREAM_SHARDS is above 1 (the "
               "marks take their stream's hash tag)");
  }
  s.delivery_timeout_ms = milliseconds(env, "STREAMSHIFT_RELAY_TIMEOUT_MS", 5000, 1, 600000,
                                       "time for the target's complete answer to one delivery");
  s.connect_timeout_ms = milliseconds(env, "STREAMSHIFT_RELAY_CONNECT_TIMEOUT_MS", 1000, 1, 60000,
                                      "target connect timeout");
  s.max_response_bytes = load_max_response_bytes(env);
  s.retry_initial_ms = milliseconds(env, "STREAMSHIFT_RELAY_RETRY_INITIAL_MS", 100, 1, 600000,
                                    "first retry delay (doubles per attempt, with jitter)");
  s.retry_max_ms =
      milliseconds(env, "STREAMSHIFT_RELAY_RETRY_MAX_MS", 5000, 1, 3600000, "longest retry delay");
  if (s.retry_max_ms < s.retry_initial_ms) {
    env.reject("STREAMSHIFT_RELAY_RETRY_MAX_MS", std::to_string(s.retry_max_ms),
               "at least STREAMSHIFT_RELAY_RETRY_INITIAL_MS");
  }
  s.lag_interval_ms = milliseconds(env, "STREAMSHIFT_RELAY_LAG_INTERVAL_MS", 5000, 100, 600000,
                                   "how often event_consumer_lag is refreshed");
  s.consumer_idle_delete_ms =
      milliseconds(env, "STREAMSHIFT_CONSUMER_IDLE_DELETE_MS", 3600000, 0, 604800000,
                   "idle time after which a group consumer holding nothing pending is deleted "
                   "(0: never)");
  s.drain_timeout_ms = milliseconds(env, "STREAMSHIFT_DRAIN_TIMEOUT_MS", 15000, 0, 600000,
                                    "on SIGTERM, time to finish deliveries in flight");
  s.admin_listen = env.host_port("STREAMSHIFT_ADMIN_LISTEN", "127.0.0.1:15002",
                                 "relay admin listener: /metrics /healthz /readyz");
  s.admin_token =
      env.text("STREAMSHIFT_ADMIN_TOKEN", "", "bearer token for POST /runtime_modify (unset: 403)",
               Visibility::kSecret);
  s.runtime_dir = load_runtime_dir_setting(env);
  s.headers_file = env.text("STREAMSHIFT_RELAY_HEADERS_FILE", "",
                            "file of `Name: value` lines added to every delivery (a Secret "
                            "mount; re-read on change; values never shown)");
  std::string level =
      env.choice("LOG_LEVEL", "info", {"debug", "info", "warn", "warning", "error"}, "log level");
  parse_log_level(level, &s.log_level);
  return s;
}

std::vector<std::string> load_relay_headers(EnvReader& env, RelaySettings& s) {
  if (s.headers_file.empty()) return {};
  TargetHeadersParse parsed = load_target_headers(s.headers_file);
  if (!parsed.error.empty()) {
    env.reject("STREAMSHIFT_RELAY_HEADERS_FILE", s.headers_file,
               "a readable file of valid `Name: value` lines (" + parsed.error + ")");
    return {};
  }
  s.target_headers = std::move(parsed.headers.block);
  return std::move(parsed.headers.names);
}

RedisOptions relay_redis_options(const RelaySettings& s, std::string name) {
  RedisOptions options;
  options.name = std::move(name);
  options.endpoint = s.redis;
  options.tls = s.redis_tls;
  options.connect_timeout_ms = s.redis_connect_timeout_ms;
  return options;
}

}  // namespace streamshift
