// RedisSocket over a real loopback connection, on a loop the test drives:
// what a failure says when the server refuses TLS late.
#include "core/redis_socket.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/tls_certs.h"

namespace streamshift {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::TestCertificates;

sockaddr_in loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  return addr;
}

// A TLS server on a thread that requires a client certificate, accepts one
// connection, refuses its handshake (with TLS 1.3 after the client has
// finished its side) and resets the connection, as redis-server does when
// the client's bytes are still unread.
class RefusingTlsServer {
 public:
  explicit RefusingTlsServer(const TestCertificates& certs) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    EXPECT_EQ(SSL_CTX_use_certificate_chain_file(ctx_, certs.server_cert().c_str()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx_, certs.server_key().c_str(), SSL_FILETYPE_PEM), 1);
    EXPECT_EQ(SSL_CTX_load_verify_locations(ctx_, certs.ca().c_str(), nullptr), 1);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = loopback(port_);
    EXPECT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(listener_, 1), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~RefusingTlsServer() {
    if (thread_.joinable()) {
      ::shutdown(listener_, SHUT_RDWR);  // wakes accept() if nobody came
      thread_.join();
    }
    ::close(listener_);
    SSL_CTX_free(ctx_);
  }
  uint16_t port() const { return port_; }
  /// Waits until the connection was refused and reset; the client's port.
  uint16_t wait_refused() {
    thread_.join();
    return client_port_;
  }
  bool accept_failed() const { return accept_failed_; }

 private:
  void serve() {
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    int fd = accept4(listener_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (fd < 0) return;
    client_port_ = ntohs(peer.sin_port);
    timeval limit{10, 0};  // a client that never finishes cannot hang the test
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    SSL* ssl = SSL_new(ctx_);
    SSL_set_fd(ssl, fd);
    accept_failed_ = SSL_accept(ssl) != 1;  // sends the alert
    SSL_free(ssl);
    ERR_clear_error();
    linger reset{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    ::close(fd);
  }

  SSL_CTX* ctx_;
  uint16_t port_ = testing::free_port();
  int listener_ = -1;
  uint16_t client_port_ = 0;
  bool accept_failed_ = false;
  std::thread thread_;
};

struct RecordingOwner : RedisSocket::Owner {
  void on_connected() override {}
  void on_open() override { opened = true; }
  bool on_bytes(const char*, size_t) override { return true; }
  void on_failed(std::string reason) override { failure = std::move(reason); }
  bool opened = false;
  std::string failure;
};

// This process's socket connected from local port `port` (the loop's, not
// exposed by RedisSocket).
int socket_with_local_port(uint16_t port) {
  for (int fd = 3; fd < 4096; ++fd) {
    sockaddr_in local{};
    socklen_t len = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0 &&
        local.sin_family == AF_INET && ntohs(local.sin_port) == port) {
      return fd;
    }
  }
  return -1;
}

TEST(RedisSocket, AWriteThatMeetsTheResetAfterALateTlsRefusalSaysWhy) {
  TestCertificates certs;
  ASSERT_TRUE(certs.ok());
  RedisTlsSettings settings;
  settings.enabled = true;
  settings.ca_file = certs.ca();
  std::string error;
  auto tls = RedisTlsContext::create(settings, &error);
  ASSERT_NE(tls, nullptr) << error;
  RefusingTlsServer server(certs);

  uv_loop_t loop;
  uv_loop_init(&loop);
  RecordingOwner owner;
  sockaddr_in address = loopback(server.port());
  RedisSocket* socket = RedisSocket::open(&loop, reinterpret_cast<sockaddr*>(&address), tls.get(),
                                          "localhost", &owner, &error);
  ASSERT_NE(socket, nullptr) << error;
  ASSERT_TRUE(eventually(
      [&] {
        uv_run(&loop, UV_RUN_NOWAIT);
        return owner.opened || !owner.failure.empty();
      },
      10s, "our side of the handshake done"));
  ASSERT_TRUE(owner.opened) << owner.failure;

  // The loop does not run now: the alert and the reset reach the socket
  // unread, as when a timer's command goes out before the read callback.
  int fd = socket_with_local_port(server.wait_refused());
  EXPECT_TRUE(server.accept_failed());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(eventually(
      [&] {
        pollfd p{fd, POLLIN, 0};
        return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) != 0;
      },
      10s, "the reset arrived"));

  RespWriter batch;
  const char* argv[] = {"PING"};
  size_t lens[] = {4};
  batch.append(1, argv, lens);
  EXPECT_FALSE(socket->send(batch));
  EXPECT_EQ(owner.failure, "server requires a client certificate");

  socket->close();
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

}  // namespace
}  // namespace streamshift
