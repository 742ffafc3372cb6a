// Reading the admin listener's environment; see admin_settings.h.
#include "proxy/admin_settings.h"

#include <utility>

#include "core/stream_settings.h"

namespace streamshift {

AdminSettings load_admin_settings(EnvReader& env) {
  AdminSettings a;
  a.listen = env.host_port("STREAMSHIFT_ADMIN_LISTEN", "127.0.0.1:15000",
                           "admin listener: /metrics /healthz /readyz /api/v1/events/*");
  a.token = env.text("STREAMSHIFT_ADMIN_TOKEN", "",
                     "bearer token for /api/v1/events/* (unset: 403)", Visibility::kSecret);
  a.cache_ms = static_cast<uint64_t>(env.integer("STREAMSHIFT_ADMIN_CACHE_MS", 2000, 0, 600000,
                                                 "how long consumer-lag look-ups are cached"));
  StreamSettings streams = load_stream_settings(
      env, {.streams = "streams reported by the events API (comma-separated)",
            .group = "consumer group whose lag is reported (and that the relay joins)"});
  a.streams = std::move(streams.streams);
  a.consumer_group = std::move(streams.group);
  a.dlq_stream = load_dlq_stream(env, "the relay's dead-letter stream, read by /api/v1/events/dlq");
  return a;
}

}  // namespace streamshift
