// The settings both programs share; see stream_settings.h.
#include "core/stream_settings.h"

#include "core/log.h"

namespace streamshift {
namespace {

// A name to verify and send as SNI: a DNS name or an IP address.
bool plausible_server_name(std::string_view name) {
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_' || c == ':';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

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

std::string load_dlq_stream(EnvReader& env, std::string_view help) {
  std::string dlq = env.text("STREAMSHIFT_DLQ_STREAM", "events:dlq", help);
  if (dlq.empty()) env.reject("STREAMSHIFT_DLQ_STREAM", "", "a non-empty stream name");
  return dlq;
}

std::optional<RedisEndpoint> load_redis_url(EnvReader& env) {
  std::optional<RedisEndpoint> url =
      env.redis_url("REDIS_URL", "redis://127.0.0.1:6379/0", kRedisUrlFormat);
  std::string user = env.text("REDIS_SENTINEL_USERNAME", "",
                              "redis-sentinel://: ACL user for the Sentinels (default: none)");
  std::string password =
      env.text("REDIS_SENTINEL_PASSWORD", "",
               "redis-sentinel://: password for the Sentinels (their requirepass); empty: no AUTH",
               Visibility::kSecret);
  if (url) {
    url->sentinel_user = std::move(user);
    url->sentinel_password = std::move(password);
  }
  return url;
}

uint64_t load_redis_connect_timeout_ms(EnvReader& env) {
  return static_cast<uint64_t>(env.integer("REDIS_CONNECT_TIMEOUT_MS", 1000, 10, 60000,
                                           "Redis connect + TLS handshake + AUTH/SELECT timeout"));
}

std::shared_ptr<const RedisTlsContext> load_redis_tls(EnvReader& env,
                                                      const std::optional<RedisEndpoint>& url) {
  RedisTlsSettings s;
  s.enabled = url && url->tls;
  s.ca_file = env.text("REDIS_TLS_CA_FILE", "",
                       "rediss://: PEM CA bundle to verify the server (default: the system's)");
  s.cert_file = env.text("REDIS_TLS_CERT_FILE", "",
                         "rediss://: PEM client certificate (chain), for tls-auth-clients");
  s.key_file = env.text("REDIS_TLS_KEY_FILE", "",
                        "rediss://: PEM private key of REDIS_TLS_CERT_FILE (unencrypted)");
  s.server_name = env.text("REDIS_TLS_SERVER_NAME", "",
                           "rediss://: name to verify and send as SNI (default: the URL's host)");
  s.insecure_skip_verify =
      env.boolean("REDIS_TLS_INSECURE_SKIP_VERIFY", false,
                  "rediss://: do not verify the server's certificate or name (development only)");
  if (!plausible_server_name(s.server_name)) {
    env.reject("REDIS_TLS_SERVER_NAME", s.server_name,
               "a host name or IP address (letters, digits, '.', '-', ':')");
  }
  if (!url) return nullptr;
  if (!url->tls) {
    constexpr const char* kPlaintext =
        "unset or empty while REDIS_URL is redis:// (no TLS); for TLS, a rediss:// URL";
    for (const auto& [name, value] : {std::pair{"REDIS_TLS_CA_FILE", &s.ca_file},
                                      std::pair{"REDIS_TLS_CERT_FILE", &s.cert_file},
                                      std::pair{"REDIS_TLS_KEY_FILE", &s.key_file},
                                      std::pair{"REDIS_TLS_SERVER_NAME", &s.server_name}}) {
      if (!value->empty()) env.reject(name, *value, kPlaintext);
    }
    if (s.insecure_skip_verify) env.reject("REDIS_TLS_INSECURE_SKIP_VERIFY", "true", kPlaintext);
    return nullptr;
  }
  RedisTlsError error;
  std::shared_ptr<const RedisTlsContext> tls = RedisTlsContext::load(s, &error);
  if (!tls) {
    env.reject(error.variable, env.raw(error.variable).value_or(""),
               error.expected + ": " + error.problem);
  }
  return tls;
}

std::string redis_tls_summary(const RedisEndpoint& redis, const RedisTlsContext* tls) {
  if (!redis.tls) return "off (REDIS_URL is redis://)";
  if (tls == nullptr) return "refused: see the REDIS_TLS_* errors";
  if (!tls->verify()) {
    return "NOT VERIFIED: REDIS_TLS_INSECURE_SKIP_VERIFY=true, any server is accepted "
           "(development only)";
  }
  return "verified: the server's certificate, and its name " +
         (tls->server_name().empty() ? std::string("(the URL's host)") : tls->server_name());
}

void warn_if_redis_tls_unverified(const RedisTlsContext* tls) {
  if (tls == nullptr || tls->verify()) return;
  log_line(LogLevel::kWarn,
           "REDIS_TLS_INSECURE_SKIP_VERIFY is on: the Redis server's certificate and name are not "
           "checked; for development only",
           {{"variable", "REDIS_TLS_INSECURE_SKIP_VERIFY"}});
}

}  // namespace streamshift
