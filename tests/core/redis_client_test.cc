// The Redis client on a loop the test drives, against a real redis-server:
// refused and reset connections (which hiredis 0.14.1's own libuv adapter
// never reports), timeouts with late replies, AUTH, reconnection; and
// against a hostile peer (FakeRedis) for the bounds of RedisReplyLimits.
#include "core/redis_client.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <thread>

#include "tests/core/redis_client_fixture.h"
#include "tests/support/fake_redis.h"
#include "tests/support/net.h"
#include "tests/support/redis_server.h"

namespace streamshift::redis_test {
namespace {

using std::chrono::seconds;
using testing::FakeRedis;
using testing::RedisServer;

TEST_F(RedisClientTest, RefusedConnectionIsReportedAndRetried) {
  uint16_t closed = testing::free_port();
  make_client(local(closed));
  // The connect failure must be seen (it hangs with hiredis' own adapter):
  // commands are refused at once, not left waiting.
  Outcome o = send({"PING"});
  EXPECT_EQ(o.status, RedisStatus::kNotConnected);
  // Redis appears on that port: the backoff loop connects.
  RedisServer late({}, closed);
  ASSERT_TRUE(late.ready());
  ASSERT_TRUE(ready());
  EXPECT_EQ(send({"PING"}).text, "PONG");
}

TEST_F(RedisClientTest, EachAttemptAfterAFailureGoesToTheNextHost) {
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  RedisOptions o = options(local(testing::free_port()));
  o.hosts = {RedisHost{"127.0.0.1", o.endpoint.port}, RedisHost{"127.0.0.1", redis.port()}};
  make_client(std::move(o));
  // The first host refuses; without rotation this would never be ready.
  ASSERT_TRUE(ready()) << client_->last_error();
  EXPECT_EQ(send({"PING"}).text, "PONG");
  EXPECT_EQ(client_->connects(), 1u);
}

// True when a connection other than this check's own is on `redis`.
bool has_a_client(const RedisServer& redis) {
  std::string list = redis.command({"CLIENT", "LIST", "TYPE", "normal"}).str;
  return std::count(list.begin(), list.end(), '\n') > 1;
}

TEST_F(RedisClientTest, AfterADropTheNextAttemptGoesToAnotherHostThanTheOneThatFailed) {
  RedisServer first;
  RedisServer second;
  ASSERT_TRUE(first.ready() && second.ready());
  RedisOptions o = options(local(testing::free_port()));
  o.hosts = {RedisHost{"127.0.0.1", o.endpoint.port}, RedisHost{"127.0.0.1", first.port()},
             RedisHost{"127.0.0.1", second.port()}};
  make_client(std::move(o));
  ASSERT_TRUE(ready()) << client_->last_error();
  RedisServer& was_on = has_a_client(first) ? first : second;
  RedisServer& other = &was_on == &first ? second : first;
  ASSERT_TRUE(has_a_client(was_on));
  // Dropped (the host hangs up, or its deadline fired): the next attempt
  // is on the next host, wherever the connection had got to.
  was_on.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
  ASSERT_TRUE(run_until([&] {
    return client_->connects() == 2 && client_->ready_connections() == 1;
  })) << client_->last_error();
  EXPECT_TRUE(has_a_client(other));
  EXPECT_FALSE(has_a_client(was_on));
}

TEST_F(RedisClientTest, ClientsStartAtHostsSpreadAcrossTheList) {
  RedisServer servers[3];
  RedisOptions o = options(local(0));
  for (const RedisServer& s : servers) {
    ASSERT_TRUE(s.ready());
    o.hosts.push_back(RedisHost{"127.0.0.1", s.port()});
  }
  // Each client starts at its own random host: not every client of every
  // process on the first one (the first Sentinel, say).
  std::vector<std::unique_ptr<RedisClient>> clients;
  for (int i = 0; i < 12; ++i) {
    clients.push_back(std::make_unique<RedisClient>(&loop_, o));
    clients.back()->start();
  }
  ASSERT_TRUE(run_until([&] {
    return std::all_of(clients.begin(), clients.end(),
                       [](const auto& c) { return c->ready_connections() == 1; });
  }));
  int used = 0;
  for (const RedisServer& s : servers) used += has_a_client(s) ? 1 : 0;
  EXPECT_GE(used, 2) << "12 clients, every one on the same host (3^-11 by chance)";
  for (auto& c : clients) c->shutdown([] {});
  uv_run(&loop_, UV_RUN_DEFAULT);
}

TEST_F(RedisClientTest, PubSubMessagesGoToOnPushAndTheSubscribeIsAnswered) {
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  std::vector<std::string> pushed;
  RedisOptions o = options(local(redis.port()));
  o.on_push = [&pushed](const redisReply& m) {
    std::string text;
    for (size_t i = 0; i < m.elements; ++i) {
      text += (i > 0 ? " " : "") + std::string(m.element[i]->str, m.element[i]->len);
    }
    pushed.push_back(text);
  };
  make_client(std::move(o));
  ASSERT_TRUE(ready());
  Outcome subscribed = send({"SUBSCRIBE", "news"});
  EXPECT_EQ(subscribed.status, RedisStatus::kOk);
  Outcome psubscribed = send({"PSUBSCRIBE", "n*"});
  EXPECT_EQ(psubscribed.status, RedisStatus::kOk);
  // PING while subscribed (how the Sentinel watch checks its connection):
  // RESP2 answers ["pong", ""], which is the PING's reply, not a message.
  EXPECT_EQ(send({"PING"}).status, RedisStatus::kOk);
  EXPECT_TRUE(pushed.empty());
  EXPECT_EQ(redis.command({"PUBLISH", "news", "hello"}).integer, 2);
  ASSERT_TRUE(run_until([&] { return pushed.size() == 2; })) << pushed.size();
  EXPECT_EQ(pushed[0], "message news hello");
  EXPECT_EQ(pushed[1], "pmessage n* news hello");
  // Still one connection, not dropped for "a reply no command asked for".
  EXPECT_EQ(client_->ready_connections(), 1u);
  EXPECT_EQ(client_->connects(), 1u);
}

TEST_F(RedisClientTest, ResetConnectionFailsInFlightCommandsAndReconnects) {
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  make_client(local(redis.port()));
  ASSERT_TRUE(ready());
  // A blocking command in flight, then the server kills our connection.
  Outcome blocked;
  start_command({"BLPOP", "nothing", "5"}, 8000, &blocked);
  ASSERT_TRUE(run_until([&] {
    return redis.command({"CLIENT", "LIST"}).str.find("cmd=blpop") != std::string::npos;
  }));
  redis.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
  ASSERT_TRUE(run_until([&] { return blocked.status.has_value(); }));
  EXPECT_EQ(blocked.status, RedisStatus::kConnectionLost);
  ASSERT_TRUE(ready());
  EXPECT_EQ(send({"PING"}).text, "PONG");
  EXPECT_GE(client_->connects(), 2u);
}

TEST_F(RedisClientTest, TimeoutAnswersAtOnceAndTheLateReplyIsIgnored) {
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  make_client(local(redis.port()));
  ASSERT_TRUE(ready());
  auto started = std::chrono::steady_clock::now();
  Outcome slow = send({"DEBUG", "SLEEP", "0.5"}, 100);
  EXPECT_EQ(slow.status, RedisStatus::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(450));
  // The connection stays usable; the late +OK is matched to nobody.
  Outcome next = send({"SET", "k", "v"}, 2000);
  EXPECT_EQ(next.status, RedisStatus::kOk);
  EXPECT_EQ(send({"GET", "k"}).text, "v");
}

TEST_F(RedisClientTest, StalledServerTimesOutEveryCommand) {
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  make_client(local(redis.port()), 2);
  ASSERT_TRUE(ready(2));
  redis.pause();
  std::vector<Outcome> outcomes(20);
  for (auto& o : outcomes) start_command({"PING"}, 50, &o);
  bool all = run_until([&] {
    for (auto& o : outcomes) {
      if (!o.status) return false;
    }
    return true;
  });
  redis.resume();
  ASSERT_TRUE(all);
  for (auto& o : outcomes) EXPECT_EQ(o.status, RedisStatus::kTimeout);
}

// A drain timeout's close_now, then the graceful path asking to be told
// when everything is closed: it is told (it used to wait forever).
TEST_F(RedisClientTest, ShutdownAfterCloseNowStillReportsTheEnd) {
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  make_client(local(redis.port()));
  ASSERT_TRUE(ready());
  redis.pause();
  Outcome waiting;
  start_command({"PING"}, 10000, &waiting);
  client_->close_now();
  bool told = false;
  client_->shutdown([&] { told = true; });
  bool closed = run_until([&] { return told; }, milliseconds(3000));
  redis.resume();
  ASSERT_TRUE(closed);
  EXPECT_EQ(waiting.status, RedisStatus::kConnectionLost);
  bool told_at_once = false;
  client_->shutdown([&] { told_at_once = true; });
  EXPECT_TRUE(told_at_once);
}

TEST_F(RedisClientTest, ErrorRepliesAreReported) {
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  make_client(local(redis.port()));
  ASSERT_TRUE(ready());
  Outcome o = send({"XADD", "s", "MAXLEN", "~", "notanumber", "*", "a", "b"});
  EXPECT_EQ(o.status, RedisStatus::kErrorReply);
  EXPECT_NE(o.text.find("ERR"), std::string::npos);
}

// ASK (Redis Cluster): ASKING goes right before the command on its
// connection and its reply is dropped, so pipelined replies stay matched.
// A standalone server answers ASKING with an error: dropped all the same.
TEST_F(RedisClientTest, AskingIsWrittenBeforeTheCommandAndItsReplyDropped) {
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  make_client(local(redis.port()));
  ASSERT_TRUE(ready());
  const char* set[] = {"SET", "asked", "v"};
  const char* get[] = {"GET", "asked"};
  const size_t set_lens[] = {3, 5, 1};
  const size_t get_lens[] = {3, 5};
  Outcome set_o, get_o, ping_o;
  RedisCommandArgs set_args{3, set, set_lens};
  set_args.asking = true;
  RedisCommandArgs get_args{2, get, get_lens};
  get_args.asking = true;
  client_->command(set_args, 1000, record, &set_o);
  client_->command(get_args, 1000, record, &get_o);
  start_command({"PING"}, 1000, &ping_o);
  ASSERT_TRUE(run_until([&] { return ping_o.status.has_value(); }));
  EXPECT_EQ(set_o.status, RedisStatus::kOk);
  EXPECT_EQ(set_o.text, "OK");
  EXPECT_EQ(get_o.text, "v");
  EXPECT_EQ(ping_o.text, "PONG");
  EXPECT_NE(redis.command({"INFO", "commandstats"}).str.find("cmdstat_asking:calls=2,"),
            std::string::npos)
      << redis.command({"INFO", "commandstats"}).str;
}

TEST_F(RedisClientTest, AuthenticatesWithAPasswordAndSelectsTheDatabase) {
  RedisServer redis({"--requirepass", "s3cret"});
  ASSERT_TRUE(redis.ready());
  redis.set_password("", "s3cret");
  RedisEndpoint e = local(redis.port());
  e.password = "s3cret";
  e.db = 2;
  make_client(e);
  ASSERT_TRUE(ready());
  EXPECT_EQ(send({"SET", "in-db-2", "yes"}).status, RedisStatus::kOk);
  EXPECT_EQ(redis.command({"SELECT", "2"}).str, "OK");
  EXPECT_EQ(redis.command({"EXISTS", "in-db-2"}).integer, 0);  // a fresh connection is on db 0
  EXPECT_EQ(send({"EXISTS", "in-db-2"}).status, RedisStatus::kOk);
}

TEST_F(RedisClientTest, AuthenticatesAsAnAclUser) {
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  ASSERT_EQ(redis
                .command({"ACL", "SETUSER", "publisher", "on", ">pub-pass", "~events:*", "+xadd",
                          "+ping"})
                .str,
            "OK");
  RedisEndpoint e = local(redis.port());
  e.user = "publisher";
  e.password = "pub-pass";
  make_client(e);
  ASSERT_TRUE(ready());
  Outcome ok = send({"XADD", "events:chat", "*", "a", "b"});
  EXPECT_EQ(ok.status, RedisStatus::kOk);
  Outcome denied = send({"XADD", "other", "*", "a", "b"});
  EXPECT_EQ(denied.status, RedisStatus::kErrorReply);
  EXPECT_NE(denied.text.find("NOPERM"), std::string::npos) << denied.text;
}

TEST_F(RedisClientTest, WrongPasswordNeverBecomesReady) {
  RedisServer redis({"--requirepass", "right"});
  ASSERT_TRUE(redis.ready());
  RedisEndpoint e = local(redis.port());
  e.password = "wrong";
  make_client(e);
  EXPECT_FALSE(run_until([&] { return client_->ready_connections() > 0; }, milliseconds(500)));
  EXPECT_EQ(send({"PING"}).status, RedisStatus::kNotConnected);
}

// ---- bounds (RedisReplyLimits): hostile peers fail the connection only

constexpr size_t kMiB = size_t{1} << 20;

TEST_F(RedisClientTest, AnArrayOfTwoBillionElementsFailsTheConnectionNotTheProcess) {
  FakeRedis fake([](const std::vector<std::string>&) {
    return FakeRedis::Reply{"*2000000000\r\n", "$1\r\na\r\n"};
  });
  make_client(local(fake.port()));
  ASSERT_TRUE(ready());
  EXPECT_EQ(send({"GET", "k"}, 5000).status, RedisStatus::kConnectionLost);
  EXPECT_TRUE(fake.wait_closed_by_client(1, seconds(5)));
  EXPECT_LT(fake.most_sent_before_close(), 32 * kMiB);               // socket buffers, no more
  EXPECT_TRUE(run_until([&] { return client_->connects() >= 2; }));  // and back
}

TEST_F(RedisClientTest, AGigabyteBulkStringFailsAtItsDeclaredLength) {
  FakeRedis fake([](const std::vector<std::string>&) {
    return FakeRedis::Reply{"$1073741824\r\n", std::string(4096, 'x')};
  });
  make_client(local(fake.port()));
  ASSERT_TRUE(ready());
  EXPECT_EQ(send({"GET", "k"}, 5000).status, RedisStatus::kConnectionLost);
  EXPECT_TRUE(fake.wait_closed_by_client(1, seconds(5)));
  EXPECT_LT(fake.most_sent_before_close(), 32 * kMiB);
}

TEST_F(RedisClientTest, AReplyOverItsByteBoundFails) {
  // Many small elements, each within bounds: the whole reply is not.
  FakeRedis fake([](const std::vector<std::string>&) {
    return FakeRedis::Reply{"*1000000\r\n", "$100\r\n" + std::string(100, 'x') + "\r\n"};
  });
  RedisReplyLimits limits;
  limits.max_reply_bytes = 4 * kMiB;
  make_client(local(fake.port()), 1, limits);
  ASSERT_TRUE(ready());
  EXPECT_EQ(send({"LRANGE", "k", "0", "-1"}, 5000).status, RedisStatus::kConnectionLost);
  EXPECT_TRUE(fake.wait_closed_by_client(1, seconds(5)));
  EXPECT_LT(fake.most_sent_before_close(), 4 * kMiB + 32 * kMiB);
}

TEST_F(RedisClientTest, AnEndlessLineFailsAtTheBufferedBytesBound) {
  FakeRedis fake([](const std::vector<std::string>&) {
    return FakeRedis::Reply{"+", std::string(4096, 'a')};  // a status line with no end
  });
  RedisReplyLimits limits;
  limits.max_bulk_bytes = kMiB;
  make_client(local(fake.port()), 1, limits);
  ASSERT_TRUE(ready());
  EXPECT_EQ(send({"ECHO", "x"}, 5000).status, RedisStatus::kConnectionLost);
  EXPECT_TRUE(fake.wait_closed_by_client(1, seconds(5)));
  EXPECT_LT(fake.most_sent_before_close(), kMiB + 32 * kMiB);
}

TEST_F(RedisClientTest, RepliesOwedToTimedOutCommandsPilingUpDropTheConnection) {
  FakeRedis fake([](const std::vector<std::string>&) { return FakeRedis::Reply{{}, {}, true}; });
  RedisReplyLimits limits;
  limits.max_late_replies = 3;
  make_client(local(fake.port()), 1, limits);
  ASSERT_TRUE(ready());
  std::vector<Outcome> outcomes(5);
  for (auto& o : outcomes) start_command({"GET", "k"}, 50, &o);
  ASSERT_TRUE(run_until([&] {
    return std::all_of(outcomes.begin(), outcomes.end(), [](auto& o) { return o.status; });
  }));
  for (auto& o : outcomes) EXPECT_EQ(o.status, RedisStatus::kTimeout);
  EXPECT_TRUE(fake.wait_closed_by_client(1, seconds(5)));
  EXPECT_TRUE(run_until([&] { return client_->connects() >= 2; }));
}

TEST_F(RedisClientTest, AReplyOwedTooLongDropsTheConnection) {
  FakeRedis fake([](const std::vector<std::string>&) { return FakeRedis::Reply{{}, {}, true}; });
  RedisReplyLimits limits;
  limits.late_reply_grace_ms = 300;
  make_client(local(fake.port()), 1, limits);
  ASSERT_TRUE(ready());
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(send({"GET", "k"}, 50).status, RedisStatus::kTimeout);
  // Still owed 300 ms after its deadline: the connection goes.
  EXPECT_TRUE(run_until([&] { return fake.closed_by_client() >= 1; }, milliseconds(5000)));
  EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(340));
  EXPECT_TRUE(run_until([&] { return client_->connects() >= 2; }));
}

TEST_F(RedisClientTest, RealRepliesWithinTheBoundsAreUntouchedAndTheBoundsAreExact) {
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  make_client(local(redis.port()));
  ASSERT_TRUE(ready());
  std::string big(10 * kMiB, 'b');
  EXPECT_EQ(send({"SET", "big", big}, 5000).status, RedisStatus::kOk);
  EXPECT_EQ(send({"GET", "big"}, 5000).text.size(), big.size());
  std::vector<std::string> push = {"RPUSH", "list"};
  for (int i = 0; i < 1001; ++i) push.push_back(std::to_string(i));
  EXPECT_EQ(send(push).status, RedisStatus::kOk);
  uint64_t connects = client_->connects();

  // Bounds set low: a reply at a bound passes, one element or byte more fails.
  bool closed = false;
  client_->shutdown([&] { closed = true; });
  client_->close_now();
  ASSERT_TRUE(run_until([&] { return closed; }));
  RedisReplyLimits limits;
  limits.max_array_elements = 1000;
  limits.max_bulk_bytes = kMiB;
  make_client(local(redis.port()), 1, limits);
  ASSERT_TRUE(ready());
  EXPECT_EQ(send({"SET", "mib", std::string(kMiB, 'm')}).status, RedisStatus::kOk);
  EXPECT_EQ(send({"SET", "over", std::string(kMiB + 1, 'o')}).status, RedisStatus::kOk);
  EXPECT_EQ(send({"GET", "mib"}).text.size(), kMiB);
  EXPECT_EQ(send({"LRANGE", "list", "0", "999"}).status, RedisStatus::kOk);
  EXPECT_EQ(send({"LRANGE", "list", "0", "1000"}).status, RedisStatus::kConnectionLost);
  ASSERT_TRUE(ready());
  EXPECT_EQ(send({"GET", "over"}).status, RedisStatus::kConnectionLost);
  ASSERT_TRUE(ready());
  EXPECT_EQ(send({"PING"}).text, "PONG");
  EXPECT_EQ(connects, 1u);
}

}  // namespace
}  // namespace streamshift::redis_test
