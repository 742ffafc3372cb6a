// TlsSession against an OpenSSL server in memory (no socket): the
// handshake, data both ways, and each failure named as operators need it.
#include "core/tls_session.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <memory>
#include <string>

#include "tests/support/tls_certs.h"

namespace streamshift {
namespace {

using testing::TestCertificates;

// The server end: an SSL with memory BIOs on both sides.
class MemoryServer {
 public:
  MemoryServer(const std::string& cert, const std::string& key, const std::string& client_ca = "") {
    ctx_ = SSL_CTX_new(TLS_server_method());
    EXPECT_EQ(SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM), 1);
    if (!client_ca.empty()) {
      EXPECT_EQ(SSL_CTX_load_verify_locations(ctx_, client_ca.c_str(), nullptr), 1);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    ssl_ = SSL_new(ctx_);
    in_ = BIO_new(BIO_s_mem());
    out_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(in_, -1);
    SSL_set_bio(ssl_, in_, out_);
    SSL_set_accept_state(ssl_);
  }
  ~MemoryServer() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }
  // Ciphertext from the client in; the server's answer out.
  std::string exchange(const std::string& from_client) {
    BIO_write(in_, from_client.data(), static_cast<int>(from_client.size()));
    char buf[1 << 16];
    size_t got = 0;
    while (SSL_read_ex(ssl_, buf, sizeof buf, &got) == 1) received_.append(buf, got);
    ERR_clear_error();
    return drain();
  }
  std::string send(const std::string& plain) {
    size_t written = 0;
    EXPECT_EQ(SSL_write_ex(ssl_, plain.data(), plain.size(), &written), 1);
    return drain();
  }
  const std::string& received() const { return received_; }

 private:
  std::string drain() {
    std::string out;
    char buf[1 << 16];
    for (int n; (n = BIO_read(out_, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    return out;
  }
  SSL_CTX* ctx_;
  SSL* ssl_;
  BIO* in_;
  BIO* out_;
  std::string received_;
};

bool collect(void* data, const char* bytes, size_t len) {
  static_cast<std::string*>(data)->append(bytes, len);
  return true;
}

class TlsSessionTest : public ::testing::Test {
 protected:
  std::shared_ptr<const RedisTlsContext> context(RedisTlsSettings s) {
    s.enabled = true;
    std::string error;
    auto ctx = RedisTlsContext::create(s, &error);
    EXPECT_NE(ctx, nullptr) << error;
    return ctx;
  }
  RedisTlsSettings trusting(const std::string& ca) {
    RedisTlsSettings s;
    s.ca_file = ca;
    return s;
  }
  // Runs the handshake and then `rounds` more exchanges; true when the
  // client finished it without an error.
  bool handshake(TlsSession& client, MemoryServer& server, int rounds = 4) {
    if (!client.start()) return false;
    for (int i = 0; i < rounds + 4 && client.error().empty(); ++i) {
      std::string to_server = client.take_output();
      std::string to_client = server.exchange(to_server);
      if (!to_client.empty()) client.feed(to_client.data(), to_client.size(), collect, &plain_);
    }
    return client.handshake_done() && client.error().empty();
  }

  TestCertificates certs_;
  std::string plain_;
};

TEST_F(TlsSessionTest, HandshakesAndCarriesBytesBothWays) {
  ASSERT_TRUE(certs_.ok());
  auto ctx = context(trusting(certs_.ca()));
  MemoryServer server(certs_.server_cert(), certs_.server_key());
  TlsSession client(*ctx, "localhost");
  ASSERT_TRUE(handshake(client, server)) << client.error();
  // More than one TLS record each way.
  std::string command(100000, 'c');
  ASSERT_TRUE(client.write(command.data(), command.size()));
  server.exchange(client.take_output());
  EXPECT_EQ(server.received(), command);
  std::string reply(70000, 'r');
  std::string cipher = server.send(reply);
  ASSERT_TRUE(client.feed(cipher.data(), cipher.size(), collect, &plain_)) << client.error();
  EXPECT_EQ(plain_, reply);
}

TEST_F(TlsSessionTest, AnIpAddressIsCheckedAgainstTheCertificatesIpNames) {
  ASSERT_TRUE(certs_.ok());
  auto ctx = context(trusting(certs_.ca()));
  MemoryServer server(certs_.server_cert(), certs_.server_key());
  TlsSession client(*ctx, "127.0.0.1");
  EXPECT_TRUE(handshake(client, server)) << client.error();
}

TEST_F(TlsSessionTest, AnUntrustedCertificateIsACertificateVerifyFailure) {
  ASSERT_TRUE(certs_.ok());
  auto ctx = context(trusting(certs_.other_ca()));
  MemoryServer server(certs_.server_cert(), certs_.server_key());
  TlsSession client(*ctx, "localhost");
  EXPECT_FALSE(handshake(client, server));
  EXPECT_EQ(client.error().rfind("certificate verify failed: ", 0), 0u) << client.error();
}

TEST_F(TlsSessionTest, AnotherNameIsAHostNameMismatch) {
  ASSERT_TRUE(certs_.ok());
  auto ctx = context(trusting(certs_.ca()));
  MemoryServer server(certs_.wrong_name_cert(), certs_.wrong_name_key());
  TlsSession client(*ctx, "localhost");
  EXPECT_FALSE(handshake(client, server));
  EXPECT_EQ(client.error(), "host name mismatch: the server's certificate is not for localhost");
}

TEST_F(TlsSessionTest, ANameTheCertificateLacksIsAHostNameMismatchForIpsToo) {
  ASSERT_TRUE(certs_.ok());
  auto ctx = context(trusting(certs_.ca()));
  MemoryServer server(certs_.server_cert(), certs_.server_key());
  TlsSession client(*ctx, "10.1.2.3");
  EXPECT_FALSE(handshake(client, server));
  EXPECT_EQ(client.error(), "host name mismatch: the server's certificate is not for 10.1.2.3");
}

TEST_F(TlsSessionTest, NoVerificationAcceptsAnyCertificate) {
  ASSERT_TRUE(certs_.ok());
  RedisTlsSettings s = trusting(certs_.other_ca());
  s.insecure_skip_verify = true;
  auto ctx = context(s);
  MemoryServer server(certs_.wrong_name_cert(), certs_.wrong_name_key());
  TlsSession client(*ctx, "localhost");
  EXPECT_TRUE(handshake(client, server)) << client.error();
}

TEST_F(TlsSessionTest, AServerThatRequiresAClientCertificateSaysSo) {
  ASSERT_TRUE(certs_.ok());
  auto ctx = context(trusting(certs_.ca()));
  MemoryServer server(certs_.server_cert(), certs_.server_key(), certs_.ca());
  TlsSession client(*ctx, "localhost");
  // TLS 1.3: the client's side of the handshake completes; the server's
  // refusal comes as an alert with the next bytes.
  handshake(client, server);
  EXPECT_EQ(client.error(), "server requires a client certificate");
}

TEST_F(TlsSessionTest, AClientCertificateIsSentWhenConfigured) {
  ASSERT_TRUE(certs_.ok());
  RedisTlsSettings s = trusting(certs_.ca());
  s.cert_file = certs_.client_cert();
  s.key_file = certs_.client_key();
  auto ctx = context(s);
  MemoryServer server(certs_.server_cert(), certs_.server_key(), certs_.ca());
  TlsSession client(*ctx, "localhost");
  ASSERT_TRUE(handshake(client, server)) << client.error();
  ASSERT_TRUE(client.write("PING", 4));
  server.exchange(client.take_output());
  EXPECT_EQ(server.received(), "PING");
}

TEST_F(TlsSessionTest, GarbageInsteadOfTlsIsAnError) {
  ASSERT_TRUE(certs_.ok());
  auto ctx = context(trusting(certs_.ca()));
  TlsSession client(*ctx, "localhost");
  ASSERT_TRUE(client.start());
  std::string garbage = "-ERR this is plaintext Redis\r\n";
  EXPECT_FALSE(client.feed(garbage.data(), garbage.size(), collect, &plain_));
  EXPECT_EQ(client.error().rfind("tls: ", 0), 0u) << client.error();
}

}  // namespace
}  // namespace streamshift
