// The TLS context of the Redis connections (core/redis_tls.h): every
// refusal names its variable and says what is wrong without quoting the
// files, and a context that is built verifies the server the way the
// settings say (a handshake over memory BIOs, no network).
#include "core/redis_tls.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/support/tls_certs.h"

namespace streamshift {
namespace {

using testing::TestCertificates;

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// rediss:// with these files (empty: unset).
RedisTlsSettings tls_with(std::string ca_file, std::string cert_file = "",
                          std::string key_file = "") {
  RedisTlsSettings s;
  s.enabled = true;
  s.ca_file = std::move(ca_file);
  s.cert_file = std::move(cert_file);
  s.key_file = std::move(key_file);
  return s;
}

RedisTlsSettings insecure(std::string ca_file) {
  RedisTlsSettings s = tls_with(std::move(ca_file));
  s.insecure_skip_verify = true;
  return s;
}

class RedisTls : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(certs_.ok()); }

  // The refusal of `settings`; a test failure if a context was built.
  RedisTlsError refusal(const RedisTlsSettings& settings) {
    RedisTlsError error;
    std::shared_ptr<const RedisTlsContext> tls = RedisTlsContext::load(settings, &error);
    EXPECT_EQ(tls, nullptr);
    EXPECT_EQ(ERR_peek_error(), 0u) << "OpenSSL's error queue is left for the connections";
    return error;
  }

  RedisTlsSettings with_client_cert() const {
    return tls_with(certs_.ca(), certs_.client_cert(), certs_.client_key());
  }

  TestCertificates certs_;
};

TEST_F(RedisTls, BuildsAVerifyingTls12ContextWithTheClientCertificate) {
  RedisTlsSettings settings = with_client_cert();
  settings.server_name = "redis.internal";
  std::string error;
  std::shared_ptr<const RedisTlsContext> tls = RedisTlsContext::create(settings, &error);
  ASSERT_NE(tls, nullptr) << error;
  EXPECT_TRUE(error.empty());
  EXPECT_TRUE(tls->verify());
  EXPECT_EQ(tls->server_name(), "redis.internal");
  SSL_CTX* ctx = tls->ctx();
  EXPECT_EQ(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
  long mode = SSL_CTX_get_mode(ctx);
  EXPECT_TRUE(mode & SSL_MODE_ENABLE_PARTIAL_WRITE);
  EXPECT_TRUE(mode & SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  EXPECT_TRUE(mode & SSL_MODE_RELEASE_BUFFERS);
  EXPECT_NE(SSL_CTX_get0_certificate(ctx), nullptr);
  EXPECT_NE(SSL_CTX_get0_privatekey(ctx), nullptr);
  // Never OpenSSL's own passphrase prompt on the terminal.
  EXPECT_NE(SSL_CTX_get_default_passwd_cb(ctx), nullptr);
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(RedisTls, WithoutACaFileTheSystemStoreIsUsed) {
  RedisTlsError error;
  std::shared_ptr<const RedisTlsContext> tls = RedisTlsContext::load(tls_with(""), &error);
  ASSERT_NE(tls, nullptr) << error.variable << ": " << error.problem;
  EXPECT_TRUE(tls->verify());
  EXPECT_EQ(SSL_CTX_get0_certificate(tls->ctx()), nullptr);
  EXPECT_TRUE(tls->server_name().empty());
}

TEST_F(RedisTls, InsecureSkipVerifyTurnsVerificationOff) {
  RedisTlsError error;
  std::shared_ptr<const RedisTlsContext> tls = RedisTlsContext::load(insecure(""), &error);
  ASSERT_NE(tls, nullptr);
  EXPECT_FALSE(tls->verify());
  EXPECT_EQ(SSL_CTX_get_verify_mode(tls->ctx()), SSL_VERIFY_NONE);
}

TEST_F(RedisTls, AMissingCaFileIsNamedWithTheSystemsReason) {
  RedisTlsError error = refusal(tls_with(certs_.file("absent.pem")));
  EXPECT_EQ(error.variable, "REDIS_TLS_CA_FILE");
  EXPECT_EQ(error.problem,
            "cannot read " + certs_.file("absent.pem") + ": No such file or directory");
  EXPECT_EQ(error.expected, "a readable PEM file of CA certificates");

  std::string text;
  EXPECT_EQ(RedisTlsContext::create(tls_with(certs_.file("absent.pem")), &text), nullptr);
  EXPECT_EQ(text, "REDIS_TLS_CA_FILE: cannot read " + certs_.file("absent.pem") +
                      ": No such file or directory");
}

TEST_F(RedisTls, ADirectoryIsNotACaFile) {
  RedisTlsError error = refusal(tls_with(certs_.dir()));
  EXPECT_EQ(error.variable, "REDIS_TLS_CA_FILE");
  EXPECT_EQ(error.problem, certs_.dir() + " is a directory, not a file");
}

TEST_F(RedisTls, ACaFileWithoutACertificateIsRefusedWithoutQuotingIt) {
  // A private key where the CA bundle should be: refused, and not a byte of it shown.
  RedisTlsError error = refusal(tls_with(certs_.client_key()));
  EXPECT_EQ(error.variable, "REDIS_TLS_CA_FILE");
  EXPECT_NE(error.problem.find("holds no PEM certificate"), std::string::npos) << error.problem;
  std::string key = read_file(certs_.client_key());
  std::string body = key.substr(key.find('\n') + 1, 40);
  ASSERT_EQ(body.size(), 40u);
  EXPECT_EQ(error.problem.find(body.substr(0, 16)), std::string::npos) << error.problem;

  write_file(certs_.file("empty.pem"), "");
  EXPECT_EQ(refusal(tls_with(certs_.file("empty.pem"))).variable, "REDIS_TLS_CA_FILE");
}

TEST_F(RedisTls, ACertificateWithoutItsKeyAndAKeyWithoutItsCertificateAreRefused) {
  RedisTlsError no_key = refusal(tls_with("", certs_.client_cert()));
  EXPECT_EQ(no_key.variable, "REDIS_TLS_KEY_FILE");
  EXPECT_EQ(no_key.problem,
            "not set, but REDIS_TLS_CERT_FILE is: a client certificate needs its private key");
  RedisTlsError no_cert = refusal(tls_with("", "", certs_.client_key()));
  EXPECT_EQ(no_cert.variable, "REDIS_TLS_CERT_FILE");
  EXPECT_EQ(no_cert.problem,
            "not set, but REDIS_TLS_KEY_FILE is: a private key needs its client certificate");
}

TEST_F(RedisTls, AnUnreadableOrNonPemCertificateFileIsNamed) {
  RedisTlsSettings missing = with_client_cert();
  missing.cert_file = certs_.file("absent.crt");
  RedisTlsError error = refusal(missing);
  EXPECT_EQ(error.variable, "REDIS_TLS_CERT_FILE");
  EXPECT_EQ(error.problem,
            "cannot read " + certs_.file("absent.crt") + ": No such file or directory");

  RedisTlsSettings a_key = with_client_cert();
  a_key.cert_file = certs_.client_key();
  error = refusal(a_key);
  EXPECT_EQ(error.variable, "REDIS_TLS_CERT_FILE");
  EXPECT_EQ(error.problem.rfind(certs_.client_key() + " holds no PEM certificate (", 0), 0u)
      << error.problem;
}

TEST_F(RedisTls, AnUnreadableNonPemOrEncryptedKeyIsNamed) {
  RedisTlsSettings missing = with_client_cert();
  missing.key_file = certs_.file("absent.key");
  RedisTlsError error = refusal(missing);
  EXPECT_EQ(error.variable, "REDIS_TLS_KEY_FILE");
  EXPECT_EQ(error.problem,
            "cannot read " + certs_.file("absent.key") + ": No such file or directory");

  RedisTlsSettings a_cert = with_client_cert();
  a_cert.key_file = certs_.client_cert();
  error = refusal(a_cert);
  EXPECT_EQ(error.variable, "REDIS_TLS_KEY_FILE");
  EXPECT_EQ(error.problem.rfind(certs_.client_cert() + " holds no unencrypted PEM private key", 0),
            0u)
      << error.problem;

  // Encrypted: refused at once, never a passphrase prompt.
  ASSERT_TRUE(certs_.openssl("pkey -in client.key -aes256 -passout pass:s3cret -out enc.key"));
  RedisTlsSettings encrypted = with_client_cert();
  encrypted.key_file = certs_.file("enc.key");
  error = refusal(encrypted);
  EXPECT_EQ(error.variable, "REDIS_TLS_KEY_FILE");
  EXPECT_EQ(
      error.problem.rfind(certs_.file("enc.key") + " holds no unencrypted PEM private key", 0), 0u)
      << error.problem;
  EXPECT_EQ(error.expected, "a readable, unencrypted PEM private key of REDIS_TLS_CERT_FILE");
}

TEST_F(RedisTls, AKeyThatDoesNotMatchTheCertificateIsRefused) {
  RedisTlsSettings settings = with_client_cert();
  settings.key_file = certs_.server_key();
  RedisTlsError error = refusal(settings);
  EXPECT_EQ(error.variable, "REDIS_TLS_KEY_FILE");
  EXPECT_EQ(error.problem, certs_.server_key() + " does not match the certificate of " +
                               "REDIS_TLS_CERT_FILE (" + certs_.client_cert() + ")");
}

// How a handshake between a client of `tls`, checking `host` (as the
// connections do), and a server presenting `cert` ended.
struct Handshake {
  bool completed = false;
  long verify_result = X509_V_OK;  // the client's
};

Handshake handshake(const RedisTlsContext& tls, const std::string& cert, const std::string& key,
                    const std::string& host) {
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> server_ctx(SSL_CTX_new(TLS_server_method()),
                                                          SSL_CTX_free);
  EXPECT_EQ(SSL_CTX_use_certificate_chain_file(server_ctx.get(), cert.c_str()), 1);
  EXPECT_EQ(SSL_CTX_use_PrivateKey_file(server_ctx.get(), key.c_str(), SSL_FILETYPE_PEM), 1);
  SSL* client = SSL_new(tls.ctx());
  SSL* server = SSL_new(server_ctx.get());
  SSL_set1_host(client, host.c_str());
  BIO* client_io = nullptr;
  BIO* server_io = nullptr;
  BIO_new_bio_pair(&client_io, 0, &server_io, 0);
  SSL_set_bio(client, client_io, client_io);
  SSL_set_bio(server, server_io, server_io);
  SSL_set_connect_state(client);
  SSL_set_accept_state(server);
  // Each side in turn until both are done or one fails (memory BIOs: no waiting).
  bool client_done = false, server_done = false, failed = false;
  for (int turn = 0; turn < 20 && !(client_done && server_done) && !failed; ++turn) {
    for (SSL* side : {client, server}) {
      bool& done = side == client ? client_done : server_done;
      if (done || failed) continue;
      int rc = SSL_do_handshake(side);
      done = rc == 1;
      failed = rc != 1 && SSL_get_error(side, rc) != SSL_ERROR_WANT_READ;
    }
  }
  Handshake result{client_done && server_done, SSL_get_verify_result(client)};
  SSL_free(client);
  SSL_free(server);
  ERR_clear_error();
  return result;
}

TEST_F(RedisTls, TheServerIsVerifiedAgainstTheCaFileAndItsName) {
  RedisTlsError error;
  auto tls = RedisTlsContext::load(tls_with(certs_.ca()), &error);
  ASSERT_NE(tls, nullptr);
  Handshake good = handshake(*tls, certs_.server_cert(), certs_.server_key(), "localhost");
  EXPECT_TRUE(good.completed);
  EXPECT_EQ(good.verify_result, X509_V_OK);
  Handshake by_ip = handshake(*tls, certs_.server_cert(), certs_.server_key(), "127.0.0.1");
  EXPECT_TRUE(by_ip.completed);

  Handshake wrong_name =
      handshake(*tls, certs_.wrong_name_cert(), certs_.wrong_name_key(), "localhost");
  EXPECT_FALSE(wrong_name.completed);
  EXPECT_EQ(wrong_name.verify_result, X509_V_ERR_HOSTNAME_MISMATCH);

  auto other = RedisTlsContext::load(tls_with(certs_.other_ca()), &error);
  ASSERT_NE(other, nullptr);
  Handshake unknown_ca = handshake(*other, certs_.server_cert(), certs_.server_key(), "localhost");
  EXPECT_FALSE(unknown_ca.completed);
  EXPECT_EQ(unknown_ca.verify_result, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

TEST_F(RedisTls, InsecureSkipVerifyCompletesAgainstAnUnknownCa) {
  RedisTlsError error;
  auto tls = RedisTlsContext::load(insecure(certs_.other_ca()), &error);
  ASSERT_NE(tls, nullptr);
  // The failure is recorded but not enforced: the handshake completes.
  Handshake h = handshake(*tls, certs_.wrong_name_cert(), certs_.wrong_name_key(), "localhost");
  EXPECT_TRUE(h.completed);
  EXPECT_NE(h.verify_result, X509_V_OK);
}

}  // namespace
}  // namespace streamshift
