// How commands leave a Redis client: on one connection until it refuses
// one, falls behind or its period ends, the commands of one loop turn in one write, and a borrowed
// argument too large for the socket's buffers still arriving whole (the rest copied when the kernel
// takes only part).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "tests/core/redis_client_fixture.h"
#include "tests/support/connection_server.h"
#include "tests/support/redis_server.h"

namespace streamshift::redis_test {
namespace {

using testing::RedisServer;

// Answers +PONG to every 14 bytes (one "*1\r\n$4\r\nPING\r\n"), and records
// the size of every read.
class RecordingPongServer {
 public:
  RecordingPongServer()
      : server_([this](int fd, int) {
          char buf[1 << 16];
          size_t pending = 0;
          for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) {
            {
              std::lock_guard<std::mutex> lock(mu_);
              reads_.push_back(static_cast<size_t>(n));
            }
            for (pending += static_cast<size_t>(n); pending >= kPing.size();
                 pending -= kPing.size())
              send(fd, "+PONG\r\n", 7, MSG_NOSIGNAL);
          }
        }) {}
  ~RecordingPongServer() { server_.stop(); }
  uint16_t port() const { return server_.port(); }
  std::vector<size_t> reads() {
    std::lock_guard<std::mutex> lock(mu_);
    return reads_;
  }
  static constexpr std::string_view kPing = "*1\r\n$4\r\nPING\r\n";

 private:
  std::mutex mu_;
  std::vector<size_t> reads_;
  testing::ConnectionServer server_;
};

TEST_F(RedisClientTest, TheCommandsOfOneLoopTurnLeaveInOneWrite) {
  RecordingPongServer server;
  make_client(local(server.port()));
  ASSERT_TRUE(ready());
  ASSERT_EQ(server.reads(), std::vector<size_t>{RecordingPongServer::kPing.size()})
      << "the handshake's PING";
  std::vector<Outcome> outcomes(100);
  for (Outcome& o : outcomes) start_command({"PING"}, 5000, &o);
  ASSERT_TRUE(run_until([&] {
    return std::all_of(outcomes.begin(), outcomes.end(),
                       [](const Outcome& o) { return o.status.has_value(); });
  }));
  for (const Outcome& o : outcomes) EXPECT_EQ(o.text, "PONG");
  EXPECT_EQ(server.reads(), (std::vector<size_t>{RecordingPongServer::kPing.size(),
                                                 100 * RecordingPongServer::kPing.size()}));
}

// Which connection takes commands: `redis` up, a client of `connections`
// ready. CLIENT ID names the connection that ran it.
class WhichConnectionTest : public RedisClientTest {
 protected:
  bool start(size_t connections, uint64_t rotate_ms, size_t max_in_flight = 4096) {
    if (!redis.ready()) return false;
    RedisOptions o = options(local(redis.port()), connections);
    o.max_in_flight = max_in_flight;
    o.rotate_ms = rotate_ms;
    make_client(o);
    return ready(connections);
  }
  long long client_id() { return send({"CLIENT", "ID"}).integer; }
  static constexpr uint64_t kNoRotation = 600000;
  RedisServer redis;
};

TEST_F(WhichConnectionTest, OneConnectionTakesTheCommandsUntilItRefusesOne) {
  ASSERT_TRUE(start(4, kNoRotation, 3));

  // Loop turns apart, one connection runs them all.
  std::set<long long> ids;
  for (int i = 0; i < 20; ++i) ids.insert(client_id());
  ASSERT_EQ(ids.size(), 1u);
  const long long first = *ids.begin();

  // In one turn, past its cap of 3 in flight: the next connection takes the
  // rest, then the one after it.
  std::vector<Outcome> outcomes(8);
  for (Outcome& out : outcomes) start_command({"CLIENT", "ID"}, 5000, &out);
  ASSERT_TRUE(run_until([&] {
    return std::all_of(outcomes.begin(), outcomes.end(),
                       [](const Outcome& out) { return out.status.has_value(); });
  }));
  std::vector<long long> got;
  for (const Outcome& out : outcomes) got.push_back(out.integer);
  EXPECT_EQ(std::set<long long>(got.begin(), got.begin() + 3), std::set<long long>{first});
  EXPECT_EQ(std::set<long long>(got.begin() + 3, got.begin() + 6).size(), 1u);
  EXPECT_NE(got[3], first);
  EXPECT_EQ(std::set<long long>(got.begin() + 6, got.end()).size(), 1u);
  EXPECT_NE(got[6], first);
  EXPECT_NE(got[6], got[3]);

  // The connection now taking commands dropped by the server: another one
  // takes over at once, while it reconnects.
  const long long current = client_id();
  ASSERT_EQ(redis.command({"CLIENT", "KILL", "ID", std::to_string(current)}).integer, 1);
  ASSERT_TRUE(run_until([&] { return client_->ready_connections() == 3; }));
  Outcome after = send({"CLIENT", "ID"});
  EXPECT_EQ(after.status, RedisStatus::kOk);
  EXPECT_NE(after.integer, current);
}

TEST_F(WhichConnectionTest, AConnectionOwingALateReplyIsPassedOver) {
  ASSERT_TRUE(start(2, kNoRotation));
  const long long first = client_id();
  // Blocked in Redis for 3 s, answered kTimeout after 50 ms: its connection
  // owes the reply. A command queued behind it would wait the 3 s.
  Outcome blocked;
  start_command({"BLPOP", "nothing-here", "3"}, 50, &blocked);
  ASSERT_TRUE(run_until([&] { return blocked.status.has_value(); }));
  ASSERT_EQ(blocked.status, RedisStatus::kTimeout);
  Outcome next = send({"CLIENT", "ID"}, 1000);
  EXPECT_EQ(next.status, RedisStatus::kOk);
  EXPECT_NE(next.integer, first);
}

TEST_F(WhichConnectionTest, TheConnectionTakingCommandsHandsOverOncePerRotation) {
  ASSERT_TRUE(start(2, 200));
  const long long first = client_id();
  // Waiting out the period is the behaviour under test.
  run_until([] { return false; }, milliseconds(250));
  const long long second = client_id();
  EXPECT_NE(second, first);
  run_until([] { return false; }, milliseconds(250));
  EXPECT_EQ(client_id(), first);
}

TEST_F(RedisClientTest, ABorrowedValueLargerThanTheSocketBuffersArrivesWhole) {
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  make_client(local(redis.port()));
  ASSERT_TRUE(ready());
  std::string value(24 << 20, '\0');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>('a' + i * 7 % 26);
  // Redis stopped: the kernel takes only part of the write, the rest waits.
  redis.pause();
  const char* argv[] = {"SET", "big", value.data()};
  size_t lens[] = {3, 3, value.size()};
  Outcome o;
  client_->command(RedisCommandArgs{3, argv, lens, uint64_t{1} << 2}, 20000, record, &o);
  run_until([] { return false; }, milliseconds(50));
  redis.resume();
  ASSERT_TRUE(run_until([&] { return o.status.has_value(); }, milliseconds(20000)));
  EXPECT_EQ(o.status, RedisStatus::kOk);
  EXPECT_EQ(o.text, "OK");
  EXPECT_EQ(redis.command({"STRLEN", "big"}).integer, static_cast<long long>(value.size()));
  EXPECT_TRUE(redis.command({"GET", "big"}, std::chrono::seconds(10)).str == value);
}

}  // namespace
}  // namespace streamshift::redis_test
