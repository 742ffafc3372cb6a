// The settings of the contract between the sidecar and the relay, read the
// same way (names, defaults, checks) by both: where the streams are
// (REDIS_URL, REDIS_CONNECT_TIMEOUT_MS), which streams (STREAMSHIFT_STREAMS)
// and the consumer group (EVENT_TRANSPORT_CONSUMER_GROUP). Each program
// reads them at its own place in its check-config listing, and says in its
// own words what it does with the streams and the group. The TLS of the
// Redis connections (REDIS_TLS_*) is read here too: one context per
// process, built before any loop runs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env_config.h"
#include "core/redis_tls.h"
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

/// STREAMSHIFT_DLQ_STREAM (default events:dlq; empty is refused): where the
/// relay dead-letters, and what the sidecar's inspection API reads.
std::string load_dlq_stream(EnvReader& env, std::string_view help);

/// REDIS_URL (default redis://127.0.0.1:6379/0; redis[s]://,
/// redis[s]-sentinel:// or redis[s]-cluster://), then
/// REDIS_SENTINEL_USERNAME and REDIS_SENTINEL_PASSWORD (secret) into the
/// endpoint's sentinel_user / sentinel_password; nullopt when the URL is
/// invalid.
std::optional<RedisEndpoint> load_redis_url(EnvReader& env);

/// REDIS_CONNECT_TIMEOUT_MS: connect + AUTH/SELECT, 10-60000, default 1000.
uint64_t load_redis_connect_timeout_ms(EnvReader& env);

/// REDIS_TLS_CA_FILE, REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE,
/// REDIS_TLS_SERVER_NAME and REDIS_TLS_INSECURE_SKIP_VERIFY, all declared
/// whatever the URL. For a rediss:// `url`: the context every Redis
/// connection of the process shares, its files read now; a file that
/// cannot be used is an error against its variable. nullptr for redis://
/// (where a REDIS_TLS_* value asking for TLS is an error: it would
/// otherwise be ignored and the traffic left in clear), when refused, and
/// when `url` is invalid (its own error says why).
std::shared_ptr<const RedisTlsContext> load_redis_tls(EnvReader& env,
                                                      const std::optional<RedisEndpoint>& url);

/// How the connections to `redis` are protected by `tls` (what
/// load_redis_tls gave), in words for check-config: "off (REDIS_URL is
/// redis://)", "verified: ...", "NOT VERIFIED: ..." or "refused: ...".
std::string redis_tls_summary(const RedisEndpoint& redis, const RedisTlsContext* tls);

/// At every start: a warning log line when REDIS_TLS_INSECURE_SKIP_VERIFY
/// is in force.
void warn_if_redis_tls_unverified(const RedisTlsContext* tls);

}  // namespace streamshift
