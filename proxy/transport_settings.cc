// Reading the transport's environment; see transport_settings.h.
#include "proxy/transport_settings.h"

#include <algorithm>

#include "core/stream_settings.h"
#include "core/stream_shards.h"

namespace streamshift {

size_t TransportSettings::redis_connections_per_worker(int workers) const {
  int share = redis_max_connections / std::max(workers, 1);
  return static_cast<size_t>(std::clamp(share, 1, 4));
}

TransportSettings load_transport_settings(EnvReader& env) {
  TransportSettings t;
  t.use_redis_streams = env.boolean("EVENT_TRANSPORT_USE_REDIS_STREAMS", false,
                                    "master switch: false routes every event over HTTP");
  // The quickstart spells it EVENT_TRANSPORT_REDIS_PERCENTAGE: an alias.
  std::optional<std::string> primary = env.raw("EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE");
  std::optional<std::string> alias = env.raw("EVENT_TRANSPORT_REDIS_PERCENTAGE");
  int main_value = static_cast<int>(env.integer("EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", 0, 0,
                                                100, "percent of events sent to Redis Streams"));
  int alias_value =
      static_cast<int>(env.integer("EVENT_TRANSPORT_REDIS_PERCENTAGE", main_value, 0, 100,
                                   "alias of EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE"));
  t.redis_percentage = primary ? main_value : alias_value;
  if (primary && alias && main_value != alias_value) {
    env.reject("EVENT_TRANSPORT_REDIS_PERCENTAGE", *alias,
               "the same value as EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE (" + *primary +
                   "), or unset: it is an alias");
  }
  t.rollout_key =
      env.choice("EVENT_TRANSPORT_ROLLOUT_KEY", "room", {"room", "random"},
                 "room: a room never splits across transports; random: per event") == "random"
          ? RolloutKey::kRandom
          : RolloutKey::kRoom;
  t.dual_write = env.boolean("EVENT_TRANSPORT_DUAL_WRITE", false,
                             "every event over HTTP, plus a shadow copy in Redis Streams");
  t.fallback_to_http = env.boolean("EVENT_TRANSPORT_FALLBACK_TO_HTTP", true,
                                   "forward over HTTP when Redis fails; false answers 503");
  t.stream_max_len = env.integer("EVENT_TRANSPORT_STREAM_MAX_LEN", 10000, 1000, 100000,
                                 "approximate per-stream length (XADD MAXLEN ~)");
  t.stream_shards = load_stream_shards(env);
  t.publish_timeout_ms = static_cast<uint64_t>(env.integer(
      "EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", 100, 10, 5000, "XADD timeout before falling back"));
  t.min_replicas = static_cast<int>(
      env.integer("EVENT_TRANSPORT_MIN_REPLICAS", 0, 0, 15,
                  "replicas that must have an event's entry before it is acknowledged (WAIT); "
                  "fewer within the publish timeout: fallback reason replication_timeout"));
  t.ack_status = static_cast<int>(env.integer("EVENT_TRANSPORT_ACK_STATUS", 202, 200, 299,
                                              "status answered for an event stored in Redis"));
  std::optional<RedisEndpoint> url = load_redis_url(env);
  if (url) t.redis = *url;
  t.redis_max_connections = static_cast<int>(
      env.integer("REDIS_MAX_CONNECTIONS", 30, 1, 1000,
                  "Redis connections in all, split over the workers (at most 4 each)"));
  t.redis_connect_timeout_ms = load_redis_connect_timeout_ms(env);
  t.redis_tls = load_redis_tls(env, url);
  t.routes_file = env.text("STREAMSHIFT_ROUTES_FILE", "",
                           "YAML or JSON route table replacing the built-in routes");
  t.circuit_failures =
      static_cast<int>(env.integer("STREAMSHIFT_CIRCUIT_FAILURES", 5, 1, 10000,
                                   "consecutive Redis failures that open the circuit"));
  t.circuit_open_ms =
      static_cast<uint64_t>(env.integer("STREAMSHIFT_CIRCUIT_OPEN_MS", 5000, 10, 600000,
                                        "time the circuit stays open before one probe"));
  CoalescingSettings& c = t.coalescing;
  c.enabled =
      env.boolean("EVENT_COALESCING_ENABLED", true, "coalesce typing indicators per room and user");
  c.window_ms = static_cast<uint64_t>(env.integer("EVENT_COALESCING_WINDOW_MS", 100, 10, 10000,
                                                  "coalescing window after a sent event"));
  c.refresh_ms = static_cast<uint64_t>(env.integer(
      "EVENT_COALESCING_REFRESH_MS", 2000, 10, 600000,
      "an unchanged state is re-sent at most this often while events keep coming (>= the window)"));
  if (c.refresh_ms < c.window_ms) {
    env.reject("EVENT_COALESCING_REFRESH_MS", std::to_string(c.refresh_ms),
               "at least EVENT_COALESCING_WINDOW_MS (" + std::to_string(c.window_ms) + ")");
  }
  c.max_keys = static_cast<size_t>(
      env.integer("EVENT_COALESCING_MAX_KEYS", 100000, 1, 10000000,
                  "(room, user) keys tracked per worker; beyond, events pass through"));
  c.event_types = env.list("EVENT_COALESCING_EVENT_TYPES", "typing_start,typing_stop",
                           "event types that are coalesced (comma-separated)");
  return t;
}

}  // namespace streamshift
