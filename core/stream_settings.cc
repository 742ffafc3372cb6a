// The settings both programs share; see stream_settings.h.
#include "core/stream_settings.h"

namespace streamshift {

StreamSettings load_stream_settings(EnvReader& env, const StreamSettingsHelp& help) {
  StreamSettings s;
  s.streams = env.list("STREAMSHIFT_STREAMS",
                       "events:chat,events:ticket,events:notification,events:remote", help.streams);
  if (s.streams.empty())
    env.reject("STREAMSHIFT_STREAMS", "", "a comma-separated list of stream names");
  s.group = env.text("EVENT_TRANSPORT_CONSUMER_GROUP", "signalr-consumers", help.group);
  if (s.group.empty()) env.reject("EVENT_TRANSPORT_CONSUMER_GROUP", "", "a non-empty group name");
  return s;
}

std::optional<RedisEndpoint> load_redis_url(EnvReader& env) {
  return env.redis_url("REDIS_URL", "redis://127.0.0.1:6379/0", kRedisUrlFormat);
}

uint64_t load_redis_connect_timeout_ms(EnvReader& env) {
  return static_cast<uint64_t>(env.integer("REDIS_CONNECT_TIMEOUT_MS", 1000, 10, 60000,
                                           "Redis connect + AUTH/SELECT timeout"));
}

}  // namespace streamshift
