// A Redis connection's life (redis_connection.h) through the client, on a
// loop the test drives: the connect timeout and the backoff as two timers,
// shutdown from each state, the cap on commands in flight, the readiness
// gauge.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/core/redis_client_fixture.h"
#include "tests/support/net.h"
#include "tests/support/redis_server.h"

namespace streamshift::redis_test {
namespace {

using testing::RedisServer;

// A port whose connections the kernel completes and nobody answers: the
// handshake's PING never gets its PONG. Accepted connections are counted.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port_);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
  }
  ~SilentListener() {
    for (int fd : accepted_) ::close(fd);
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  // Accepts what is waiting (keeping it open); how many so far.
  size_t accepted() {
    for (int fd; (fd = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0;)
      accepted_.push_back(fd);
    return accepted_.size();
  }
  // Everything the client sent so far, on every connection.
  const std::string& received() {
    accepted();
    char buf[4096];
    for (int fd : accepted_) {
      for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) received_.append(buf, n);
    }
    return received_;
  }

 private:
  uint16_t port_ = testing::free_port();
  int fd_ = -1;
  std::vector<int> accepted_;
  std::string received_;
};

class RedisConnectionTest : public RedisClientTest {
 protected:
  bool shut_down(milliseconds limit) {
    bool closed = false;
    client_->shutdown([&] { closed = true; });
    return run_until([&] { return closed; }, limit);
  }
};

// The connect timeout fires, and the backoff timer (a separate one) starts
// the next attempt: the silent peer sees several connections.
TEST_F(RedisConnectionTest, ASilentPeerTimesTheConnectOutAndTheBackoffRetries) {
  SilentListener silent;
  make_client(local(silent.port()));  // connect timeout 500 ms, backoff 20-100 ms
  auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until([&] { return silent.accepted() >= 3; }, milliseconds(20000)));
  EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(1000));  // 2 timeouts
  EXPECT_EQ(client_->ready_connections(), 0u);
  EXPECT_EQ(client_->connects(), 0u);
  EXPECT_EQ(send({"PING"}).status, RedisStatus::kNotConnected);
  EXPECT_TRUE(shut_down(milliseconds(5000)));
}

// Shut down in the handshake: nothing of the caller's is in flight, so it
// closes at once rather than waiting for AUTH/PING replies that never come.
TEST_F(RedisConnectionTest, ShutdownDuringTheHandshakeClosesAtOnce) {
  SilentListener silent;
  RedisOptions o = options(local(silent.port()));
  o.connect_timeout_ms = 20000;
  make_client(o);
  ASSERT_TRUE(run_until([&] { return silent.received().find("PING") != std::string::npos; }));
  EXPECT_TRUE(shut_down(milliseconds(5000)));
}

TEST_F(RedisConnectionTest, ShutdownDuringTheBackoffClosesAtOnce) {
  RedisOptions o = options(local(testing::free_port()));  // nothing listens
  o.backoff_initial_ms = o.backoff_max_ms = 60000;
  make_client(o);
  EXPECT_EQ(send({"PING"}).status, RedisStatus::kNotConnected);
  EXPECT_TRUE(shut_down(milliseconds(5000)));
}

// A host name goes to the resolver first (this one fails, then backs
// off): shutting down meanwhile closes too.
TEST_F(RedisConnectionTest, ShutdownWhileResolvingCloses) {
  RedisEndpoint e = local(6379);
  e.host = "no-such-host.invalid";
  make_client(e);
  EXPECT_EQ(send({"PING"}).status, RedisStatus::kNotConnected);
  EXPECT_TRUE(shut_down(milliseconds(20000)));
}

// A graceful shutdown lets a command in flight have its reply first.
TEST_F(RedisConnectionTest, ShutdownLetsRepliesInFlightArrive) {
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  make_client(local(redis.port()));
  ASSERT_TRUE(ready());
  Outcome slow;
  start_command({"DEBUG", "SLEEP", "0.2"}, 5000, &slow);
  bool closed = false;
  client_->shutdown([&] { closed = true; });
  EXPECT_EQ(client_->ready_connections(), 0u);  // no new commands meanwhile
  ASSERT_TRUE(run_until([&] { return closed; }));
  EXPECT_EQ(slow.status, RedisStatus::kOk);
}

TEST_F(RedisConnectionTest, TheCapOnCommandsInFlightRefusesTheNextOne) {
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  RedisOptions o = options(local(redis.port()));
  o.max_in_flight = 2;
  make_client(o);
  ASSERT_TRUE(ready());
  redis.pause();
  std::vector<Outcome> outcomes(3);
  for (auto& out : outcomes) start_command({"PING"}, 10000, &out);
  EXPECT_EQ(outcomes[2].status, RedisStatus::kOverloaded);  // at once
  redis.resume();
  ASSERT_TRUE(run_until([&] { return outcomes[0].status && outcomes[1].status; }));
  EXPECT_EQ(outcomes[0].status, RedisStatus::kOk);
  EXPECT_EQ(outcomes[1].status, RedisStatus::kOk);
  EXPECT_EQ(send({"PING"}).text, "PONG");  // room again
}

// The readiness gauge moves once each way per connection: up on connect,
// down on loss, up again on reconnection, back to zero on shutdown.
TEST_F(RedisConnectionTest, ReadinessIsReportedOnceEachWay) {
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  RedisOptions o = options(local(redis.port()), 2);
  int gauge = 0, lowest = 0, highest = 0, ups = 0;
  o.on_ready_change = [&](int delta) {
    gauge += delta;
    ups += delta > 0 ? 1 : 0;
    lowest = std::min(lowest, gauge);
    highest = std::max(highest, gauge);
  };
  make_client(o);
  ASSERT_TRUE(run_until([&] { return gauge == 2; }));
  redis.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
  ASSERT_TRUE(run_until([&] { return ups >= 4 && gauge == 2; }));
  EXPECT_EQ(static_cast<size_t>(gauge), client_->ready_connections());
  EXPECT_TRUE(shut_down(milliseconds(5000)));
  EXPECT_EQ(gauge, 0);
  EXPECT_EQ(lowest, 0);
  EXPECT_EQ(highest, 2);
}

}  // namespace
}  // namespace streamshift::redis_test
