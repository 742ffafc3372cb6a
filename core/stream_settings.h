// The settings of the contract between the sidecar and the relay, read the
// same way (names, defaults, checks) by both: where the streams are
// (REDIS_URL, REDIS_CONNECT_TIMEOUT_MS), which streams (STREAMSHIFT_STREAMS)
// and the consumer group (EVENT_TRANSPORT_CONSUMER_GROUP). Each program
// reads them at its own place in its check-config listing, and says in its
// own words what it does with the streams and the group.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env_config.h"
#include "core/redis_url.h"

namespace streamshift {

struct StreamSettings {
  std::vector<std::string> streams;  // empty only when refused
  std::string group = "signalr-consumers";
};

/// What check-config says of the two variables, for one program.
struct StreamSettingsHelp {
  std::string_view streams;
  std::string_view group;
};

/// STREAMSHIFT_STREAMS (default events:chat,events:ticket,
/// events:notification,events:remote; empty is refused) and
/// EVENT_TRANSPORT_CONSUMER_GROUP (default signalr-consumers; empty is
/// refused), in that order.
StreamSettings load_stream_settings(EnvReader& env, const StreamSettingsHelp& help);

/// REDIS_URL (default redis://127.0.0.1:6379/0); nullopt when invalid.
std::optional<RedisEndpoint> load_redis_url(EnvReader& env);

/// REDIS_CONNECT_TIMEOUT_MS: connect + AUTH/SELECT, 10-60000, default 1000.
uint64_t load_redis_connect_timeout_ms(EnvReader& env);

}  // namespace streamshift
