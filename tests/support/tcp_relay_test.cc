// TcpRelay between two sockets of this process: bytes pass both ways, a
// frozen relay holds them back without closing anything, a thawed one lets
// them through in order, and a closed side closes the other.
#include "tests/support/tcp_relay.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>

#include "tests/support/net.h"

namespace streamshift::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

/// What arrives on `fd` within `timeout` (all of `want` bytes, or less when
/// nothing more came); "<eof>" when the peer closed first.
std::string receive(int fd, size_t want, milliseconds timeout) {
  std::string got;
  while (got.size() < want) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) break;
    char buf[256];
    ssize_t n = recv(fd, buf, std::min(sizeof buf, want - got.size()), 0);
    if (n <= 0) return got + "<eof>";
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

/// The connection the relay opened to the target's listening socket.
int accept_within(int listen_fd, milliseconds timeout) {
  pollfd p{listen_fd, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return -1;
  return accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
}

class TcpRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    listen_fd_ = listen_loopback(&target_port_, 4);
    ASSERT_GE(listen_fd_, 0);
    relay_ = std::make_unique<TcpRelay>(target_port_);
    client_ = connect_loopback(relay_->port());
    ASSERT_GE(client_, 0);
    target_ = accept_within(listen_fd_, seconds(5));
    ASSERT_GE(target_, 0) << "the relay did not connect to the target";
  }
  void TearDown() override {
    for (int fd : {client_, target_, listen_fd_}) {
      if (fd >= 0) close(fd);
    }
  }

  uint16_t target_port_ = 0;
  int listen_fd_ = -1;
  std::unique_ptr<TcpRelay> relay_;
  int client_ = -1;
  int target_ = -1;
};

TEST_F(TcpRelayTest, ForwardsBothWays) {
  ASSERT_TRUE(send_all(client_, "to target"));
  EXPECT_EQ(receive(target_, 9, seconds(5)), "to target");
  ASSERT_TRUE(send_all(target_, "to client"));
  EXPECT_EQ(receive(client_, 9, seconds(5)), "to client");
}

TEST_F(TcpRelayTest, FrozenHoldsEveryByteBackAndThawedLetsThemThroughInOrder) {
  relay_->freeze();
  EXPECT_TRUE(relay_->frozen());
  ASSERT_TRUE(send_all(client_, "held-1 "));
  ASSERT_TRUE(send_all(client_, "held-2"));
  ASSERT_TRUE(send_all(target_, "back"));
  // Nothing may arrive while frozen: a wait for what must not happen.
  EXPECT_EQ(receive(target_, 13, milliseconds(300)), "");
  EXPECT_EQ(receive(client_, 4, milliseconds(50)), "");

  relay_->thaw();
  EXPECT_FALSE(relay_->frozen());
  EXPECT_EQ(receive(target_, 13, seconds(5)), "held-1 held-2");
  EXPECT_EQ(receive(client_, 4, seconds(5)), "back");
}

TEST_F(TcpRelayTest, FrozenDoesNotPassOnAClose) {
  relay_->freeze();
  close(target_);
  target_ = -1;
  EXPECT_EQ(receive(client_, 1, milliseconds(300)), "") << "a frozen relay closed the client";
  relay_->thaw();
  EXPECT_EQ(receive(client_, 1, seconds(5)), "<eof>");
}

}  // namespace
}  // namespace streamshift::testing
