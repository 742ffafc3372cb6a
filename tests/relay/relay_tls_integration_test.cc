// The relay over TLS (rediss://, REDIS_TLS_*): the real binary consuming
// from a real redis-server's TLS port (certificates from
// tests/support/tls_certs.h) and delivering to a target written here.
// Entries are written and checked over the server's plaintext port.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/stream_entries.h"
#include "tests/support/test_upstream.h"
#include "tests/support/tls_certs.h"

namespace streamshift::testing {
namespace {

using std::chrono::seconds;

class RelayTls : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(certs_.ok()); }

  void start_redis(bool auth_clients) {
    redis_ = RedisServer::with_tls(RedisTlsPort{.cert_file = certs_.server_cert(),
                                                .key_file = certs_.server_key(),
                                                .ca_file = certs_.ca(),
                                                .auth_clients = auth_clients});
    ASSERT_TRUE(redis_->ready());
  }

  std::unique_ptr<RelayProcess> start_relay(std::map<std::string, std::string> env) {
    env.emplace("REDIS_TLS_CA_FILE", certs_.ca());
    env.emplace("STREAMSHIFT_STREAMS", "events:chat");
    return std::make_unique<RelayProcess>(redis_->tls_url(), target_.port(), env);
  }

  // Entries xadded over the plaintext port all reach the target, and are acked.
  void expect_delivered(RelayProcess& relay, int n) {
    for (int i = 0; i < n; ++i) xadd(*redis_, "tls-ev-" + std::to_string(i));
    EXPECT_TRUE(target_.wait_for_requests(n, std::chrono::seconds(15)))
        << target_.request_count() << "\n"
        << relay.process().output();
    EXPECT_TRUE(eventually(
        [&] {
          RedisValue p = redis_->command({"XPENDING", "events:chat", "signalr-consumers"});
          return !p.elements.empty() && p.elements[0].integer == 0;
        },
        seconds(10), "every entry acked"));
  }

  TestCertificates certs_;
  TestUpstream target_;
  std::unique_ptr<RedisServer> redis_;
};

TEST_F(RelayTls, DeliversOverTls) {
  start_redis(false);
  auto relay = start_relay({});
  ASSERT_TRUE(relay->ready()) << relay->process().output();
  expect_delivered(*relay, 25);
  bool found = false;
  for (const ReceivedRequest& r : target_.requests()) {
    if (r.header("X-Event-Id") == "tls-ev-7") {
      found = true;
      EXPECT_EQ(r.body, "{\"event_id\":\"tls-ev-7\",\"room_id\":\"r-1\"}");
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(relay->metric("streamshift_redis_tls_verify"), 1);
}

TEST_F(RelayTls, DeliversOverMutualTlsWithTheClientCertificate) {
  start_redis(true);
  auto relay = start_relay(
      {{"REDIS_TLS_CERT_FILE", certs_.client_cert()}, {"REDIS_TLS_KEY_FILE", certs_.client_key()}});
  ASSERT_TRUE(relay->ready()) << relay->process().output();
  expect_delivered(*relay, 5);
}

TEST_F(RelayTls, WithoutTheClientCertificateItIsNotReadyAndSaysWhy) {
  start_redis(true);
  auto relay = start_relay({});
  EXPECT_FALSE(relay->ready());
  EXPECT_TRUE(relay->process().running()) << relay->process().output();
  EXPECT_TRUE(relay->process().wait_output("server requires a client certificate", seconds(15)))
      << relay->process().output();
  auto ready = http_get(relay->admin_port(), "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503) << ready->body;
}

TEST_F(RelayTls, InsecureSkipVerifyIsWarnedAboutAndShownByTheGauge) {
  start_redis(false);
  auto relay = start_relay(
      {{"REDIS_TLS_CA_FILE", certs_.other_ca()}, {"REDIS_TLS_INSECURE_SKIP_VERIFY", "true"}});
  ASSERT_TRUE(relay->ready()) << relay->process().output();
  EXPECT_EQ(relay->metric("streamshift_redis_tls_verify"), 0);
  EXPECT_NE(relay->process().output().find(
                "\"level\":\"warn\",\"msg\":\"REDIS_TLS_INSECURE_SKIP_VERIFY is on"),
            std::string::npos)
      << relay->process().output();
  expect_delivered(*relay, 3);
}

TEST(RelayTlsConfig, AFileItCannotUseStopsTheStartNamingTheVariable) {
  TestCertificates certs;
  ASSERT_TRUE(certs.ok());
  ChildProcess relay({streamshift_binary(), "relay"},
                     {{"REDIS_URL", "rediss://127.0.0.1:6380"},
                      {"REDIS_TLS_CERT_FILE", certs.client_cert()},
                      {"STREAMSHIFT_ADMIN_LISTEN", "127.0.0.1:" + std::to_string(free_port())}});
  EXPECT_EQ(relay.wait(seconds(20)), 2) << relay.output();
  EXPECT_NE(
      relay.output().find("streamshift relay: invalid configuration:\nREDIS_TLS_KEY_FILE=\"\": "
                          "invalid, allowed: a readable, unencrypted PEM private key of "
                          "REDIS_TLS_CERT_FILE: not set, but REDIS_TLS_CERT_FILE is"),
      std::string::npos)
      << relay.output();
}

}  // namespace
}  // namespace streamshift::testing
