// The contract settings both programs read through core/stream_settings.h.
#include "core/stream_settings.h"

#include <gtest/gtest.h>

#include "tests/support/env_map.h"
#include "tests/support/tls_certs.h"

namespace streamshift {
namespace {

constexpr StreamSettingsHelp kHelp{.streams = "the streams", .group = "the group"};

TEST(StreamSettings, DefaultsAreTheFourStreamsAndTheSharedGroup) {
  EnvReader env = testing::env_from({});
  StreamSettings s = load_stream_settings(env, kHelp);
  ASSERT_TRUE(env.ok()) << env.error_report();
  EXPECT_EQ(s.streams, (std::vector<std::string>{"events:chat", "events:ticket",
                                                 "events:notification", "events:remote"}));
  EXPECT_EQ(s.group, "signalr-consumers");
}

TEST(StreamSettings, ReadsOverridesAndRecordsTheProgramsHelp) {
  EnvReader env = testing::env_from(
      {{"STREAMSHIFT_STREAMS", " a ,b,, "}, {"EVENT_TRANSPORT_CONSUMER_GROUP", "relays"}});
  StreamSettings s = load_stream_settings(env, kHelp);
  ASSERT_TRUE(env.ok()) << env.error_report();
  EXPECT_EQ(s.streams, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s.group, "relays");
  ASSERT_EQ(env.entries().size(), 2u);
  EXPECT_EQ(env.entries()[0].name, "STREAMSHIFT_STREAMS");
  EXPECT_EQ(env.entries()[0].help, "the streams");
  EXPECT_EQ(env.entries()[1].name, "EVENT_TRANSPORT_CONSUMER_GROUP");
  EXPECT_EQ(env.entries()[1].help, "the group");
}

TEST(StreamSettings, RefusesNoStreamsAndAnEmptyGroup) {
  EnvReader env =
      testing::env_from({{"STREAMSHIFT_STREAMS", " , "}, {"EVENT_TRANSPORT_CONSUMER_GROUP", ""}});
  load_stream_settings(env, kHelp);
  ASSERT_EQ(env.errors().size(), 2u) << env.error_report();
  EXPECT_EQ(env.errors()[0].name, "STREAMSHIFT_STREAMS");
  EXPECT_EQ(env.errors()[1].name, "EVENT_TRANSPORT_CONSUMER_GROUP");
}

TEST(StreamSettings, RedisUrlAndConnectTimeoutAreReadAndChecked) {
  EnvReader defaults = testing::env_from({});
  std::optional<RedisEndpoint> url = load_redis_url(defaults);
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 6379);
  EXPECT_EQ(load_redis_connect_timeout_ms(defaults), 1000u);

  EnvReader bad = testing::env_from({{"REDIS_URL", "http://x"}, {"REDIS_CONNECT_TIMEOUT_MS", "5"}});
  EXPECT_FALSE(load_redis_url(bad));
  load_redis_connect_timeout_ms(bad);
  ASSERT_EQ(bad.errors().size(), 2u) << bad.error_report();
}

TEST(StreamSettings, SentinelCredentialsGoIntoTheEndpointAndThePasswordIsMasked) {
  EnvReader env = testing::env_from({{"REDIS_URL", "redis-sentinel://:datapw@s1,s2:26380#mymaster"},
                                     {"REDIS_SENTINEL_USERNAME", "watcher"},
                                     {"REDIS_SENTINEL_PASSWORD", "sentinel-secret"}});
  std::optional<RedisEndpoint> url = load_redis_url(env);
  ASSERT_TRUE(url) << env.error_report();
  EXPECT_EQ(url->sentinel_user, "watcher");
  EXPECT_EQ(url->sentinel_password, "sentinel-secret");
  EXPECT_EQ(url->password, "datapw");
  EXPECT_EQ(url->master_name, "mymaster");
  ASSERT_EQ(env.entries().size(), 3u);
  EXPECT_EQ(env.entries()[0].shown_value, "redis-sentinel://:****@s1:26379,s2:26380/0#mymaster");
  EXPECT_EQ(env.entries()[1].shown_value, "watcher");
  EXPECT_EQ(env.entries()[2].name, "REDIS_SENTINEL_PASSWORD");
  EXPECT_EQ(env.entries()[2].shown_value, "****");
}

// Both programs read REDIS_URL here: a cluster URL gives the seeds (the
// cluster client's), shown without its password.
TEST(StreamSettings, AClusterUrlGivesTheSeedsAndItsPasswordIsMasked) {
  EnvReader env = testing::env_from({{"REDIS_URL", "rediss-cluster://app:clusterpw@n1:7000,n2/0"}});
  std::optional<RedisEndpoint> url = load_redis_url(env);
  ASSERT_TRUE(url) << env.error_report();
  EXPECT_EQ(url->mode(), RedisMode::kCluster);
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->password, "clusterpw");
  ASSERT_EQ(url->cluster_seeds.size(), 2u);
  EXPECT_EQ(url->cluster_seeds[1], (RedisHost{"n2", 6379}));
  EXPECT_EQ(env.entries()[0].shown_value, "rediss-cluster://app:****@n1:7000,n2:6379/0");
}

// load_redis_tls over `vars` (REDIS_URL among them).
struct TlsLoad {
  std::shared_ptr<const RedisTlsContext> tls;
  std::vector<ConfigError> errors;
  std::vector<ConfigEntry> entries;
};
TlsLoad load_tls(std::map<std::string, std::string> vars) {
  EnvReader env = testing::env_from(std::move(vars));
  std::optional<RedisEndpoint> url = load_redis_url(env);
  TlsLoad out;
  out.tls = load_redis_tls(env, url);
  out.errors = env.errors();
  out.entries = env.entries();
  return out;
}

TEST(RedisTlsSettings, AllFiveAreListedAndNothingIsBuiltForRedis) {
  TlsLoad plain = load_tls({});
  EXPECT_EQ(plain.tls, nullptr);
  EXPECT_TRUE(plain.errors.empty());
  std::vector<std::string> names;
  for (const ConfigEntry& e : plain.entries) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "REDIS_URL", "REDIS_SENTINEL_USERNAME", "REDIS_SENTINEL_PASSWORD",
                       "REDIS_TLS_CA_FILE", "REDIS_TLS_CERT_FILE", "REDIS_TLS_KEY_FILE",
                       "REDIS_TLS_SERVER_NAME", "REDIS_TLS_INSECURE_SKIP_VERIFY"}));
  // As the ConfigMaps list them: empty, or false.
  TlsLoad listed = load_tls({{"REDIS_TLS_CA_FILE", ""},
                             {"REDIS_TLS_CERT_FILE", ""},
                             {"REDIS_TLS_KEY_FILE", ""},
                             {"REDIS_TLS_SERVER_NAME", ""},
                             {"REDIS_TLS_INSECURE_SKIP_VERIFY", "false"}});
  EXPECT_EQ(listed.tls, nullptr);
  EXPECT_TRUE(listed.errors.empty());
}

TEST(RedisTlsSettings, AskingForTlsWithARedisUrlIsAnErrorPerVariable) {
  TlsLoad load = load_tls({{"REDIS_URL", "redis://:pw@redis:6379"},
                           {"REDIS_TLS_CA_FILE", "/etc/ca.crt"},
                           {"REDIS_TLS_SERVER_NAME", "redis.internal"},
                           {"REDIS_TLS_INSECURE_SKIP_VERIFY", "true"}});
  EXPECT_EQ(load.tls, nullptr);
  ASSERT_EQ(load.errors.size(), 3u);
  EXPECT_EQ(load.errors[0].name, "REDIS_TLS_CA_FILE");
  EXPECT_EQ(load.errors[0].value, "/etc/ca.crt");
  EXPECT_EQ(load.errors[0].allowed,
            "unset or empty while REDIS_URL is redis:// (no TLS); for TLS, a rediss:// URL");
  EXPECT_EQ(load.errors[1].name, "REDIS_TLS_SERVER_NAME");
  EXPECT_EQ(load.errors[2].name, "REDIS_TLS_INSECURE_SKIP_VERIFY");
}

TEST(RedisTlsSettings, AnInvalidUrlAddsNoTlsErrorOfItsOwn) {
  TlsLoad load = load_tls({{"REDIS_URL", "redis://h/99"}, {"REDIS_TLS_CA_FILE", "/etc/ca.crt"}});
  EXPECT_EQ(load.tls, nullptr);
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0].name, "REDIS_URL");
}

TEST(RedisTlsSettings, RedissBuildsTheContextFromTheFiles) {
  testing::TestCertificates certs;
  ASSERT_TRUE(certs.ok());
  TlsLoad system_store = load_tls({{"REDIS_URL", "rediss://redis:6380"}});
  ASSERT_NE(system_store.tls, nullptr);
  EXPECT_TRUE(system_store.tls->verify());

  TlsLoad mtls = load_tls({{"REDIS_URL", "rediss://:pw@10.0.0.5:6380/1"},
                           {"REDIS_TLS_CA_FILE", certs.ca()},
                           {"REDIS_TLS_CERT_FILE", certs.client_cert()},
                           {"REDIS_TLS_KEY_FILE", certs.client_key()},
                           {"REDIS_TLS_SERVER_NAME", "redis.internal"}});
  ASSERT_NE(mtls.tls, nullptr);
  EXPECT_TRUE(mtls.errors.empty());
  EXPECT_EQ(mtls.tls->server_name(), "redis.internal");
  EXPECT_NE(SSL_CTX_get0_certificate(mtls.tls->ctx()), nullptr);

  TlsLoad insecure =
      load_tls({{"REDIS_URL", "rediss://redis"}, {"REDIS_TLS_INSECURE_SKIP_VERIFY", "yes"}});
  ASSERT_NE(insecure.tls, nullptr);
  EXPECT_FALSE(insecure.tls->verify());
}

TEST(RedisTlsSettings, AFileThatCannotBeUsedIsAnErrorAgainstItsVariable) {
  testing::TestCertificates certs;
  ASSERT_TRUE(certs.ok());
  TlsLoad missing =
      load_tls({{"REDIS_URL", "rediss://redis"}, {"REDIS_TLS_CA_FILE", certs.file("nope.pem")}});
  EXPECT_EQ(missing.tls, nullptr);
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].name, "REDIS_TLS_CA_FILE");
  EXPECT_EQ(missing.errors[0].value, certs.file("nope.pem"));
  EXPECT_EQ(missing.errors[0].allowed, "a readable PEM file of CA certificates: cannot read " +
                                           certs.file("nope.pem") + ": No such file or directory");

  TlsLoad mismatch = load_tls({{"REDIS_URL", "rediss://redis"},
                               {"REDIS_TLS_CERT_FILE", certs.client_cert()},
                               {"REDIS_TLS_KEY_FILE", certs.server_key()}});
  ASSERT_EQ(mismatch.errors.size(), 1u);
  EXPECT_EQ(mismatch.errors[0].name, "REDIS_TLS_KEY_FILE");
  EXPECT_NE(mismatch.errors[0].allowed.find("does not match the certificate"), std::string::npos);

  TlsLoad no_key =
      load_tls({{"REDIS_URL", "rediss://redis"}, {"REDIS_TLS_CERT_FILE", certs.client_cert()}});
  ASSERT_EQ(no_key.errors.size(), 1u);
  EXPECT_EQ(no_key.errors[0].name, "REDIS_TLS_KEY_FILE");
  EXPECT_EQ(no_key.errors[0].value, "");
}

TEST(RedisTlsSettings, AServerNameMustBeAHostName) {
  TlsLoad load =
      load_tls({{"REDIS_URL", "rediss://10.0.0.5"}, {"REDIS_TLS_SERVER_NAME", "redis internal"}});
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0].name, "REDIS_TLS_SERVER_NAME");
}

TEST(RedisTlsSettings, TheSummarySaysWhetherTheServerIsVerified) {
  RedisEndpoint plain;
  EXPECT_EQ(redis_tls_summary(plain, nullptr), "off (REDIS_URL is redis://)");
  RedisEndpoint tls;
  tls.tls = true;
  EXPECT_EQ(redis_tls_summary(tls, nullptr), "refused: see the REDIS_TLS_* errors");
  TlsLoad verified = load_tls({{"REDIS_URL", "rediss://redis"}});
  ASSERT_NE(verified.tls, nullptr);
  EXPECT_EQ(redis_tls_summary(tls, verified.tls.get()),
            "verified: the server's certificate, and its name (the URL's host)");
  TlsLoad named =
      load_tls({{"REDIS_URL", "rediss://10.0.0.5"}, {"REDIS_TLS_SERVER_NAME", "redis.internal"}});
  ASSERT_NE(named.tls, nullptr);
  EXPECT_EQ(redis_tls_summary(tls, named.tls.get()),
            "verified: the server's certificate, and its name redis.internal");
  TlsLoad insecure =
      load_tls({{"REDIS_URL", "rediss://redis"}, {"REDIS_TLS_INSECURE_SKIP_VERIFY", "true"}});
  ASSERT_NE(insecure.tls, nullptr);
  EXPECT_EQ(redis_tls_summary(tls, insecure.tls.get()).rfind("NOT VERIFIED", 0), 0u);
}

}  // namespace
}  // namespace streamshift
