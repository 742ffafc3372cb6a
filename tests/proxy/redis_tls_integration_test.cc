// The sidecar over TLS (rediss://, REDIS_TLS_*) end to end: the real
// binary against a real redis-server with a TLS port, serving certificates
// the fixture makes with openssl (tests/support/tls_certs.h). The test's
// own checks read Redis over the server's plaintext port.
//
// Stored byte for byte, the events API, mutual TLS with and without the
// client certificate, a wrong CA, a wrong name, a server name apart from
// the address, fallback on and off while TLS fails, a restart mid-stream,
// INSECURE_SKIP_VERIFY, and files that stop the start.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "tests/support/command.h"
#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_upstream.h"
#include "tests/support/tls_certs.h"

namespace streamshift::testing {
namespace {

using std::chrono::seconds;

constexpr const char* kToken = "tls-t0ken";

std::string chat(const std::string& event_id) {
  return make_request("POST", "/internal/broadcast/chat",
                      "{\"event_type\":\"chat_message\",\"room_id\":\"r-1\",\"event_id\":\"" +
                          event_id + "\",\"text\":\"caf\xc3\xa9 \\\"q\\\" \\u00e9\"}",
                      "Content-Type: application/json\r\n");
}

class SidecarTls : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(certs_.ok()); }

  // redis-server with a TLS port presenting `cert` (default: the one for
  // localhost and 127.0.0.1).
  void start_redis(bool auth_clients = false, std::string cert = "", std::string key = "") {
    RedisTlsPort tls{.cert_file = cert.empty() ? certs_.server_cert() : cert,
                     .key_file = key.empty() ? certs_.server_key() : key,
                     .ca_file = certs_.ca(),
                     .auth_clients = auth_clients};
    redis_ = RedisServer::with_tls(tls);
    ASSERT_TRUE(redis_->ready());
  }

  // The sidecar storing every event over rediss://<host>:<tls port>,
  // trusting the fixture's CA, unless `env` says otherwise.
  void start_sidecar(std::map<std::string, std::string> env,
                     const std::string& host = "127.0.0.1") {
    env.emplace("REDIS_URL", redis_->tls_url("", host));
    env.emplace("REDIS_TLS_CA_FILE", certs_.ca());
    env.emplace("EVENT_TRANSPORT_USE_REDIS_STREAMS", "true");
    env.emplace("EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100");
    env.emplace("EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "2000");
    env.emplace("STREAMSHIFT_ADMIN_TOKEN", kToken);
    env.emplace("STREAMSHIFT_ADMIN_CACHE_MS", "0");
    sidecar_ = std::make_unique<Sidecar>(upstream_.port(), env);
    ASSERT_TRUE(sidecar_->ready()) << sidecar_->process().output();
  }

  std::string health() const {
    TestClient client(sidecar_->admin_port());
    auto r = client.request(make_request("GET", "/api/v1/events/health", "",
                                         std::string("Authorization: Bearer ") + kToken + "\r\n"));
    return r ? r->body : "";
  }

  // Health says Redis is not connected because of `reason`, and the log
  // says it too.
  ::testing::AssertionResult fails_with(const std::string& reason) const {
    std::string body;
    bool seen = eventually(
        [&] {
          body = health();
          size_t error = body.find("\"redis_connected\":false,\"redis_error\":\"");
          return error != std::string::npos &&
                 body.find(reason, error) < body.find("\",\"transport_mode\"", error);
        },
        seconds(20), "health naming " + reason);
    if (!seen) return ::testing::AssertionFailure() << "health: " << body;
    if (sidecar_->process().output().find(reason) == std::string::npos)
      return ::testing::AssertionFailure() << "no log line says " << reason << ":\n"
                                           << sidecar_->process().output();
    return ::testing::AssertionSuccess();
  }

  double metric(const std::string& series) const {
    return metric_sample(sidecar_->admin_port(), series).value_or(-1);
  }

  TestCertificates certs_;
  TestUpstream upstream_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<Sidecar> sidecar_;
};

TEST_F(SidecarTls, StoresEventsOverTlsByteForByte) {
  start_redis();
  start_sidecar({});
  ASSERT_TRUE(sidecar_->wait_redis_connected());
  std::string request = chat("tls-1");
  std::string body = request.substr(request.find("\r\n\r\n") + 4);
  TestClient client(sidecar_->port());
  auto r = client.request(request);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;
  EXPECT_EQ(r->header("X-Event-Transport"), "redis_streams");
  auto entries = read_stream(*redis_, "events:chat");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].field("event_id"), "tls-1");
  EXPECT_EQ(entries[0].field("body"), body);
  EXPECT_EQ(upstream_.request_count(), 0u);
  EXPECT_EQ(metric("streamshift_redis_tls_verify"), 1);
  // Every connection but the test's own (CLIENT LIST) came through the TLS port.
  std::string clients = redis_->command({"CLIENT", "LIST"}).str;
  const std::string tls_port = "laddr=127.0.0.1:" + std::to_string(redis_->tls_port()) + " ";
  size_t over_tls = 0;
  for (size_t at = 0; at < clients.size();) {
    size_t end = std::min(clients.find('\n', at), clients.size());
    std::string line = clients.substr(at, end - at);
    at = end + 1;
    if (line.find(tls_port) != std::string::npos)
      ++over_tls;
    else
      EXPECT_NE(line.find(" cmd=client"), std::string::npos) << "plaintext: " << line;
  }
  EXPECT_GE(over_tls, 2u) << clients;  // the worker's and the admin listener's
}

TEST_F(SidecarTls, TheEventsApiReportsOverTls) {
  start_redis();
  ASSERT_EQ(
      redis_->command({"XGROUP", "CREATE", "events:chat", "signalr-consumers", "0", "MKSTREAM"})
          .str,
      "OK");
  for (int i = 0; i < 7; ++i) redis_->command({"XADD", "events:chat", "*", "n", "1"});
  start_sidecar({{"STREAMSHIFT_STREAMS", "events:chat"}});
  ASSERT_TRUE(sidecar_->wait_redis_connected("admin"));
  std::string body = health();
  EXPECT_NE(body.find("\"redis_connected\":true"), std::string::npos) << body;
  EXPECT_NE(body.find("\"total_lag\":7"), std::string::npos) << body;
  EXPECT_EQ(body.find("redis_error"), std::string::npos) << body;
}

TEST_F(SidecarTls, MutualTlsWorksWithTheClientCertificate) {
  start_redis(/*auth_clients=*/true);
  start_sidecar(
      {{"REDIS_TLS_CERT_FILE", certs_.client_cert()}, {"REDIS_TLS_KEY_FILE", certs_.client_key()}});
  ASSERT_TRUE(sidecar_->wait_redis_connected());
  TestClient client(sidecar_->port());
  auto r = client.request(chat("mtls-1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;
  EXPECT_EQ(read_stream(*redis_, "events:chat").size(), 1u);
  EXPECT_NE(health().find("\"redis_connected\":true"), std::string::npos);
}

TEST_F(SidecarTls, WithoutTheClientCertificateItSaysTheServerRequiresOneAndFallsBack) {
  start_redis(/*auth_clients=*/true);
  start_sidecar({});
  EXPECT_TRUE(fails_with("server requires a client certificate"));
  // Fallback on: the event goes over HTTP.
  TestClient client(sidecar_->port());
  auto r = client.request(chat("fallback-1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->header("X-Event-Transport"), "http");
  EXPECT_EQ(upstream_.request_count(), 1u);
  EXPECT_TRUE(read_stream(*redis_, "events:chat").empty());
}

TEST_F(SidecarTls, AnUnrelatedCaFailsVerificationAndWithoutFallbackEventsGet503) {
  start_redis();
  start_sidecar(
      {{"REDIS_TLS_CA_FILE", certs_.other_ca()}, {"EVENT_TRANSPORT_FALLBACK_TO_HTTP", "false"}});
  EXPECT_TRUE(fails_with("certificate verify failed"));
  TestClient client(sidecar_->port());
  auto r = client.request(chat("refused-1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_NE(r->body.find("\"error\":\"redis_unavailable\""), std::string::npos) << r->body;
  EXPECT_EQ(upstream_.request_count(), 0u);
  EXPECT_TRUE(read_stream(*redis_, "events:chat").empty());
}

TEST_F(SidecarTls, AServerNameTheCertificateDoesNotNameIsAHostNameMismatch) {
  start_redis();
  start_sidecar({{"REDIS_TLS_SERVER_NAME", "redis.example"}});
  EXPECT_TRUE(fails_with("host name mismatch"));
  TestClient client(sidecar_->port());
  auto r = client.request(chat("fallback-2"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("X-Event-Transport"), "http") << r->body;
}

TEST_F(SidecarTls, AServerCertificateForAnotherNameIsAHostNameMismatch) {
  start_redis(false, certs_.wrong_name_cert(), certs_.wrong_name_key());
  start_sidecar({}, "localhost");
  EXPECT_TRUE(fails_with("host name mismatch"));
}

// The certificate names localhost only: by address, the name must be given.
TEST_F(SidecarTls, ServerNameLocalhostWhileConnectingTo127001) {
  start_redis(false, certs_.localhost_only_cert(), certs_.localhost_only_key());
  start_sidecar({{"REDIS_TLS_SERVER_NAME", "localhost"}}, "127.0.0.1");
  ASSERT_TRUE(sidecar_->wait_redis_connected());
  TestClient client(sidecar_->port());
  auto r = client.request(chat("by-address"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;

  // The same without the name: the address is not in the certificate.
  sidecar_.reset();
  start_sidecar({}, "127.0.0.1");
  EXPECT_TRUE(fails_with("host name mismatch"));
}

TEST_F(SidecarTls, ARedisRestartMidStreamReconnectsOverTls) {
  start_redis();
  start_sidecar(
      {{"EVENT_TRANSPORT_FALLBACK_TO_HTTP", "false"}, {"REDIS_CONNECT_TIMEOUT_MS", "500"}});
  ASSERT_TRUE(sidecar_->wait_redis_connected());
  TestClient client(sidecar_->port());
  for (int i = 0; i < 20; ++i) {
    auto r = client.request(chat("before-" + std::to_string(i)));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body;
  }
  redis_->kill_hard();
  auto down = client.request(chat("while-down"));
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 503) << down->body;
  ASSERT_TRUE(redis_->restart());
  int stored = 0;
  EXPECT_TRUE(eventually(
      [&] {
        auto r = client.request(chat("after-" + std::to_string(stored)));
        if (r && r->status == 202) ++stored;
        return stored >= 20;
      },
      seconds(30), "20 events stored after the restart"))
      << sidecar_->process().output();
  // No persistence: the stream holds what came after the restart, every
  // acknowledged event among it.
  std::set<std::string> ids;
  for (const StreamEntryView& e : read_stream(*redis_, "events:chat")) {
    EXPECT_EQ(e.field("event_id").rfind("after-", 0), 0u) << e.field("event_id");
    ids.insert(e.field("event_id"));
  }
  for (int i = 0; i < 20; ++i) EXPECT_EQ(ids.count("after-" + std::to_string(i)), 1u) << i;
  EXPECT_EQ(metric("streamshift_redis_tls_verify"), 1);
}

TEST_F(SidecarTls, InsecureSkipVerifyConnectsDespiteAWrongCaAndSaysSo) {
  start_redis();
  start_sidecar(
      {{"REDIS_TLS_CA_FILE", certs_.other_ca()}, {"REDIS_TLS_INSECURE_SKIP_VERIFY", "true"}});
  ASSERT_TRUE(sidecar_->wait_redis_connected());
  TestClient client(sidecar_->port());
  auto r = client.request(chat("insecure-1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;
  EXPECT_EQ(metric("streamshift_redis_tls_verify"), 0);
  std::string output = sidecar_->process().output();
  EXPECT_NE(output.find("\"level\":\"warn\",\"msg\":\"REDIS_TLS_INSECURE_SKIP_VERIFY is on"),
            std::string::npos)
      << output;
}

// The fixture itself, checked with redis-cli (so these certificates and
// this server are known good whatever the sidecar does with them).
TEST(TlsFixture, TheServerSpeaksTlsWithTheGeneratedCertificates) {
  ASSERT_TRUE(have_command("redis-cli"))
      << "redis-cli is missing: install Debian's redis-tools (scripts/setup-deps.sh)";
  TestCertificates certs;
  ASSERT_TRUE(certs.ok());
  std::unique_ptr<RedisServer> redis = RedisServer::with_tls({.cert_file = certs.server_cert(),
                                                              .key_file = certs.server_key(),
                                                              .ca_file = certs.ca(),
                                                              .auth_clients = true});
  ASSERT_TRUE(redis->ready());
  std::string cli = "redis-cli -h 127.0.0.1 -p " + std::to_string(redis->tls_port()) + " --tls";
  auto ping = [&](const std::string& options) {
    return run_command(cli + " " + options + " PING 2>&1").text;
  };
  std::string client = " --cert " + certs.client_cert() + " --key " + certs.client_key();
  EXPECT_EQ(ping("--cacert " + certs.ca() + client), "PONG\n");
  EXPECT_EQ(ping("--cacert " + certs.ca() + client + " --sni localhost"), "PONG\n");
  EXPECT_NE(ping("--cacert " + certs.ca()), "PONG\n");  // no client certificate
  EXPECT_NE(ping("--cacert " + certs.other_ca() + client), "PONG\n");
  EXPECT_EQ(redis->command({"PING"}).str, "PONG");  // the plaintext port, for the tests' checks
}

// What needs no server: the files are read before anything listens.
struct Refusal {
  int code;
  std::string output;
};
Refusal run(const std::vector<std::string>& args, std::map<std::string, std::string> env) {
  std::vector<std::string> argv = {streamshift_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess p(argv, std::move(env));
  int code = p.wait(seconds(20));
  return {code, p.output()};
}

TEST(SidecarTlsConfig, AFileItCannotUseStopsTheStartNamingTheVariable) {
  TestCertificates certs;
  ASSERT_TRUE(certs.ok());
  std::string key = certs.file("client.key");
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"proxy"}, std::vector<std::string>{"check-config"}}) {
    Refusal missing = run(command, {{"REDIS_URL", "rediss://:pw-9c1e@127.0.0.1:6380"},
                                    {"REDIS_TLS_CA_FILE", certs.file("missing-ca.crt")}});
    EXPECT_EQ(missing.code, 2) << missing.output;
    EXPECT_NE(missing.output.find("REDIS_TLS_CA_FILE=\"" + certs.file("missing-ca.crt") +
                                  "\": invalid, allowed: a readable PEM file of CA "
                                  "certificates: cannot read"),
              std::string::npos)
        << missing.output;
    Refusal mismatch = run(command, {{"REDIS_URL", "rediss://:pw-9c1e@127.0.0.1:6380"},
                                     {"REDIS_TLS_CERT_FILE", certs.server_cert()},
                                     {"REDIS_TLS_KEY_FILE", key}});
    EXPECT_EQ(mismatch.code, 2) << mismatch.output;
    EXPECT_NE(mismatch.output.find("REDIS_TLS_KEY_FILE="), std::string::npos) << mismatch.output;
    EXPECT_NE(mismatch.output.find("does not match the certificate"), std::string::npos)
        << mismatch.output;
    // Neither the key's contents nor the password.
    std::ifstream key_file(key);
    std::string pem;
    std::getline(key_file, pem);  // -----BEGIN PRIVATE KEY-----
    std::getline(key_file, pem);
    pem = pem.substr(0, 20);
    ASSERT_EQ(pem.size(), 20u);
    for (const Refusal* r : {&missing, &mismatch}) {
      EXPECT_EQ(r->output.find(pem), std::string::npos) << r->output;
      EXPECT_EQ(r->output.find("pw-9c1e"), std::string::npos) << r->output;
    }
  }
}

TEST(SidecarTlsConfig, TlsVariablesWithAPlaintextUrlAreRefused) {
  Refusal r = run({"proxy"}, {{"REDIS_URL", "redis://127.0.0.1:6379"},
                              {"REDIS_TLS_CA_FILE", "/etc/ssl/certs/ca-certificates.crt"}});
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("REDIS_TLS_CA_FILE=\"/etc/ssl/certs/ca-certificates.crt\": invalid, "
                          "allowed: unset or empty while REDIS_URL is redis://"),
            std::string::npos)
      << r.output;
}

TEST(SidecarTlsConfig, CheckConfigListsTheVariablesAndSaysWhetherTheServerIsVerified) {
  Refusal insecure = run({"check-config"}, {{"REDIS_URL", "rediss://redis:6380"},
                                            {"REDIS_TLS_INSECURE_SKIP_VERIFY", "true"}});
  EXPECT_EQ(insecure.code, 0) << insecure.output;
  for (const char* line :
       {"REDIS_URL=rediss://redis:6380/0\t(set)", "REDIS_TLS_INSECURE_SKIP_VERIFY=true\t(set)",
        "REDIS_TLS_CA_FILE=\t(default)", "REDIS_TLS_CERT_FILE=\t(default)",
        "REDIS_TLS_KEY_FILE=\t(default)", "REDIS_TLS_SERVER_NAME=\t(default)",
        "redis tls: NOT VERIFIED"}) {
    EXPECT_NE(insecure.output.find(line), std::string::npos) << line << "\n" << insecure.output;
  }
  Refusal relay = run({"check-config", "relay"}, {{"REDIS_URL", "rediss://redis:6380"}});
  EXPECT_EQ(relay.code, 0) << relay.output;
  EXPECT_NE(relay.output.find("redis tls: verified"), std::string::npos) << relay.output;
}

}  // namespace
}  // namespace streamshift::testing
