// Reading the admin listener's environment; see admin_settings.h.
#include "proxy/admin_settings.h"

namespace streamshift {

AdminSettings load_admin_settings(EnvReader& env) {
  AdminSettings a;
  a.listen = env.host_port("STREAMSHIFT_ADMIN_LISTEN", "127.0.0.1:15000",
                           "admin listener: /metrics /healthz /readyz /api/v1/events/*");
  a.token = env.text("STREAMSHIFT_ADMIN_TOKEN", "",
                     "bearer token for /api/v1/events/* (unset: 403)", Visibility::kSecret);
  a.cache_ms = static_cast<uint64_t>(env.integer("STREAMSHIFT_ADMIN_CACHE_MS", 2000, 0, 600000,
                                                 "how long consumer-lag look-ups are cached"));
  a.streams =
      env.list("STREAMSHIFT_STREAMS", "events:chat,events:ticket,events:notification,events:remote",
               "streams reported by the events API (comma-separated)");
  if (a.streams.empty())
    env.reject("STREAMSHIFT_STREAMS", "", "a comma-separated list of stream names");
  a.consumer_group = env.text("EVENT_TRANSPORT_CONSUMER_GROUP", "signalr-consumers",
                              "consumer group whose lag is reported (and that the relay joins)");
  if (a.consumer_group.empty())
    env.reject("EVENT_TRANSPORT_CONSUMER_GROUP", "", "a non-empty group name");
  return a;
}

}  // namespace streamshift
