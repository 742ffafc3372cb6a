// A RedisClient on a redis-sentinel:// URL against real Sentinels
// (tests/support/redis_sentinel.h): it finds the primary, follows a
// failover, refuses a node that is not a primary, and says why when the
// Sentinels name nothing or refuse its password.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <sstream>
#include <string>

#include "core/redis_client.h"
#include "tests/core/redis_client_fixture.h"
#include "tests/support/connection_server.h"
#include "tests/support/eventually.h"
#include "tests/support/redis_sentinel.h"
#include "tests/support/redis_server.h"

namespace streamshift::redis_test {
namespace {

using std::chrono::seconds;
using testing::RedisFailoverSet;
using testing::RedisServer;

RedisEndpoint parsed(const std::string& url) {
  std::string why;
  std::optional<RedisEndpoint> ep = parse_redis_url(url, &why);
  EXPECT_TRUE(ep) << url << ": " << why;
  return ep.value_or(RedisEndpoint{});
}

// GET in database 3 (the support's command() has no connection to SELECT on).
std::string get_in_db3(RedisServer& redis, const std::string& key) {
  return redis
      .command({"EVAL", "redis.call('SELECT', 3) return redis.call('GET', KEYS[1])", "1", key})
      .str;
}

// One Sentinel watching `primary` as master `name`, with optional extra lines.
std::unique_ptr<RedisServer> sentinel_for(uint16_t primary, const std::string& name,
                                          const std::string& extra = "") {
  auto s = RedisServer::sentinel("sentinel monitor " + name + " 127.0.0.1 " +
                                 std::to_string(primary) + " 1\n" + extra);
  EXPECT_TRUE(s->ready()) << "the Sentinel did not start";
  return s;
}

// The Sentinel (0..2) whose CLIENT LIST has a client line containing `mark`
// ("cmd=sentinel|get-master-addr-by-name": the locator's query client; " sub=1 ":
// its +switch-master watch), once one does; -1 when none does within 10 s.
int sentinel_with_client(RedisFailoverSet& set, const std::string& mark) {
  int found = -1;
  EXPECT_TRUE(testing::eventually(
      [&] {
        for (int i = 0; i < 3 && found < 0; ++i) {
          if (set.sentinel(i).command({"CLIENT", "LIST"}).str.find(mark) != std::string::npos)
            found = i;
        }
        return found >= 0;
      },
      seconds(10)))
      << "no Sentinel has a client with " << mark;
  return found;
}

// Drops the connections of the client under test on `redis` (normal ones
// without a name: the Sentinels name theirs), as a network blip would.
int drop_our_connections(RedisServer& redis) {
  int dropped = 0;
  std::istringstream lines(redis.command({"CLIENT", "LIST", "TYPE", "normal"}).str);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" name= ") == std::string::npos ||
        line.find("cmd=client|list") != std::string::npos)
      continue;
    std::string id = line.substr(3, line.find(' ') - 3);  // "id=<n> addr=..."
    dropped += static_cast<int>(redis.command({"CLIENT", "KILL", "ID", id}).integer);
  }
  return dropped;
}

class RedisSentinelClientTest : public RedisClientTest {
 protected:
  RedisOptions sentinel_options(const std::string& url) {
    RedisOptions o = options(parsed(url), 2);
    o.primary_status = status_;
    return o;
  }
  // Runs the loop until last_error() contains `text`.
  bool error_says(const std::string& text) {
    return run_until([&] { return client_->last_error().find(text) != std::string::npos; },
                     seconds(15));
  }
  // Writes `key` again and again (each with `timeout_ms`) until one
  // succeeds, for up to 30 s from `since`: the ms from `since` to it, or -1.
  long long first_write(const std::string& key, const std::string& value, uint64_t timeout_ms,
                        Clock::time_point since) {
    while (Clock::now() - since < seconds(30)) {
      if (!run_until([&] { return client_->ready_connections() > 0; }, seconds(30))) return -1;
      if (send({"SET", key, value}, timeout_ms).status == RedisStatus::kOk) return ms_since(since);
    }
    return -1;
  }
  std::shared_ptr<RedisPrimaryStatus> status_ = std::make_shared<RedisPrimaryStatus>();
};

TEST_F(RedisSentinelClientTest, FindsThePrimaryAndFollowsItThroughAFailover) {
  RedisFailoverSet set;
  ASSERT_TRUE(set.ready());
  const uint16_t first = set.primary().port();
  const uint16_t second = set.replica().port();
  make_client(sentinel_options(set.sentinel_url(3)));
  ASSERT_TRUE(ready(2)) << client_->last_error();
  ASSERT_EQ(send({"SET", "before", "1"}).status, RedisStatus::kOk);
  EXPECT_EQ(get_in_db3(set.primary(), "before"), "1");
  EXPECT_EQ(status_->view().primary, "127.0.0.1:" + std::to_string(first));
  EXPECT_EQ(status_->view().failovers, 0u);

  set.kill_primary();
  const auto killed = Clock::now();
  // Writes are refused or lost until the client has moved; the first that
  // succeeds must be on the promoted replica.
  const long long to_first_write = first_write("after", "kill", 1000, killed);
  ASSERT_GE(to_first_write, 0) << client_->last_error();
  std::cout << "[ measure ] sentinel failover: kill -> first successful write " << to_first_write
            << " ms\n";
  EXPECT_LT(to_first_write, 5000);

  ASSERT_TRUE(set.wait_for_promotion(seconds(20)));
  ASSERT_EQ(set.primary().port(), second);
  EXPECT_EQ(get_in_db3(set.primary(), "after"), "kill");
  EXPECT_EQ(status_->view().primary, "127.0.0.1:" + std::to_string(second));
  EXPECT_EQ(status_->view().failovers, 1u);
  EXPECT_EQ(status_->view().seconds_without_primary, 0);
}

TEST_F(RedisSentinelClientTest, AHungSentinelUnderTheQueryIsLeftAtTheFirstTimeout) {
  RedisFailoverSet set;
  ASSERT_TRUE(set.ready());
  make_client(sentinel_options(set.sentinel_url()));
  ASSERT_TRUE(ready(2)) << client_->last_error();
  const int hung = sentinel_with_client(set, "cmd=sentinel|get-master-addr-by-name");
  ASSERT_GE(hung, 0);
  set.sentinel(hung).pause();
  const uint64_t connects = client_->connects();
  ASSERT_EQ(drop_our_connections(set.primary()), 2);
  const auto dropped = Clock::now();
  // The connections ask the Sentinels again: the query goes to the hung one
  // first, times out (500 ms here) and must then go to the next Sentinel,
  // not to the hung one again until a late reply's grace (10 s) runs out.
  ASSERT_TRUE(run_until(
      [&] { return client_->connects() >= connects + 2 && client_->ready_connections() == 2; },
      seconds(30)))
      << client_->last_error();
  const long long took = ms_since(dropped);
  std::cout << "[ measure ] query Sentinel hung: drop -> both connections on the primary again "
            << took << " ms\n";
  EXPECT_LT(took, 3000);
  EXPECT_EQ(send({"SET", "k", "v"}).status, RedisStatus::kOk);
  set.sentinel(hung).resume();
}

TEST_F(RedisSentinelClientTest, AHungSentinelUnderTheWatchIsLeftAndTheFailoverFollowed) {
  RedisFailoverSet set;
  ASSERT_TRUE(set.ready());
  const uint16_t promoted = set.replica().port();
  make_client(sentinel_options(set.sentinel_url(3)));
  ASSERT_TRUE(ready(2)) << client_->last_error();
  const int hung = sentinel_with_client(set, " sub=1 ");
  ASSERT_GE(hung, 0);
  set.sentinel(hung).pause();
  // The primary hangs (a partition) rather than dies: the connections to it
  // stay up, so only +switch-master moves them before their late replies'
  // grace (10 s) ends. The watch must notice its Sentinel is hung and
  // subscribe on another one, which the two live Sentinels' failover reaches.
  set.primary().pause();
  const long long took = first_write("after", "hang", 500, Clock::now());
  ASSERT_GE(took, 0) << client_->last_error();
  std::cout << "[ measure ] watch Sentinel hung, primary hung: -> first write on the new primary "
            << took << " ms\n";
  EXPECT_LT(took, 6000);
  EXPECT_EQ(status_->view().primary, "127.0.0.1:" + std::to_string(promoted));
  EXPECT_EQ(get_in_db3(set.replica(), "after"), "hang");
  set.sentinel(hung).resume();
}

// While the Sentinels name a primary that fails every attempt, the
// connection retries at most about a second apart (each attempt asking the
// Sentinels afresh), however long it has failed: a promotion whose
// +switch-master was missed is then found within a second, not after the
// standalone backoff's 5 s.
TEST_F(RedisSentinelClientTest, RetriesStayAtMostASecondApartWhileThePrimaryFails) {
  // Accepts, and closes once the first command is read. Our handshake
  // opens with a bare PING; the Sentinel's own links (it monitors this
  // "primary" too) open with CLIENT SETNAME, and are not counted.
  std::atomic<int> ours{0};
  testing::ConnectionServer broken([&ours](int fd, int) {
    char buf[64];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0 && std::string_view(buf, static_cast<size_t>(n)).starts_with("*1\r\n$4\r\nPING"))
      ++ours;
  });
  auto sentinel = sentinel_for(broken.port(), "m");
  RedisOptions o =
      sentinel_options("redis-sentinel://127.0.0.1:" + std::to_string(sentinel->port()) + "#m");
  o.connections = 1;
  o.backoff_initial_ms = 50;
  o.backoff_max_ms = 5000;  // what the programs use
  make_client(o);
  // Past the attempts whose standalone delays stay under a second (50 ms
  // doubling: the 6th waits 0.8-1.6 s, the 7th 1.6-3.2 s).
  ASSERT_TRUE(run_until([&] { return ours.load() >= 7; }, seconds(20)));
  int before = ours.load();
  run_until([] { return false; }, seconds(3));  // time passing is what is measured
  EXPECT_GE(ours.load() - before, 3) << "attempts in 3 s, after " << before;
  broken.stop();
}

TEST_F(RedisSentinelClientTest, AnUnknownMasterNameIsAClearError) {
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  auto sentinel = sentinel_for(redis.port(), "known");
  make_client(sentinel_options("redis-sentinel://127.0.0.1:" + std::to_string(sentinel->port()) +
                               "#unknown"));
  EXPECT_TRUE(error_says("sentinel: no master named 'unknown'")) << client_->last_error();
  EXPECT_EQ(client_->ready_connections(), 0u);
  EXPECT_GT(status_->view().seconds_without_primary, 0);
}

TEST_F(RedisSentinelClientTest, ANodeThatIsNotAPrimaryIsDropped) {
  RedisServer primary;
  ASSERT_TRUE(primary.ready());
  RedisServer replica({"--replicaof", "127.0.0.1", std::to_string(primary.port())});
  ASSERT_TRUE(replica.ready());
  // A Sentinel told the replica is the master: it names it until it learns
  // better, which the client must not take on trust.
  auto sentinel = sentinel_for(replica.port(), "m");
  make_client(
      sentinel_options("redis-sentinel://127.0.0.1:" + std::to_string(sentinel->port()) + "#m"));
  EXPECT_TRUE(error_says("not a primary (role: slave)")) << client_->last_error();
  EXPECT_EQ(client_->ready_connections(), 0u);
}

TEST_F(RedisSentinelClientTest, SentinelPasswordIsUsedAndAWrongOneIsAClearError) {
  RedisServer redis({"--requirepass", "datapw"});
  ASSERT_TRUE(redis.ready());
  auto sentinel = sentinel_for(redis.port(), "m", "requirepass sentinelpw\n");
  std::string url = "redis-sentinel://:datapw@127.0.0.1:" + std::to_string(sentinel->port()) + "#m";

  RedisOptions good = sentinel_options(url);
  good.endpoint.sentinel_password = "sentinelpw";
  make_client(good);
  ASSERT_TRUE(ready(2)) << client_->last_error();
  EXPECT_EQ(send({"SET", "k", "v"}).status, RedisStatus::kOk);
  client_->shutdown([] {});
  ASSERT_TRUE(run_until([&] { return client_->ready_connections() == 0; }));
  uv_run(&loop_, UV_RUN_DEFAULT);
  client_.reset();

  RedisOptions wrong = sentinel_options(url);
  wrong.endpoint.sentinel_password = "nope";
  make_client(wrong);
  EXPECT_TRUE(error_says("connect timeout: no primary from the sentinels (handshake: "))
      << client_->last_error();
  EXPECT_NE(client_->last_error().find("WRONGPASS"), std::string::npos) << client_->last_error();
  EXPECT_EQ(client_->last_error().find("nope"), std::string::npos);
}

}  // namespace
}  // namespace streamshift::redis_test
