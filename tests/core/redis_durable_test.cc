// Durable writes against a real primary and replica: a write answered kOk
// is on the replica already, a stopped replica makes writes kNotReplicated
// before their deadline (not kTimeout), and one WAIT covers a loop turn's
// durable commands.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "tests/core/redis_client_fixture.h"
#include "tests/support/eventually.h"
#include "tests/support/redis_server.h"

namespace streamshift::redis_test {
namespace {

using testing::RedisServer;
using testing::RedisValue;

class DurableWritesTest : public RedisClientTest {
 protected:
  DurableWritesTest()
      : primary_({"--repl-diskless-sync-delay", "0"}),
        replica_({"--replicaof", "127.0.0.1", std::to_string(primary_.port())}) {}

  void SetUp() override {
    ASSERT_TRUE(primary_.ready() && replica_.ready());
    ASSERT_TRUE(testing::eventually([&] { return primary_.replica_acknowledges_all(); },
                                    std::chrono::seconds(10), "the replica in sync"));
    make_client(local(primary_.port()));
    ASSERT_TRUE(ready());
  }

  void start_durable(const std::string& id, uint64_t timeout_ms, Outcome* o) {
    const char* argv[] = {"XADD", "s", id.c_str(), "k", "v"};
    size_t lens[] = {4, 1, id.size(), 1, 1};
    client_->command(RedisCommandArgs{5, argv, lens, 0, 1}, timeout_ms, record, o);
  }

  long long wait_calls() {
    std::string info = primary_.command({"INFO", "commandstats"}).str;
    size_t at = info.find("cmdstat_wait:calls=");
    return at == std::string::npos ? 0 : std::stoll(info.substr(at + 19));
  }

  RedisServer primary_;
  RedisServer replica_;
};

TEST_F(DurableWritesTest, AWriteAnsweredOkIsOnTheReplicaAlready) {
  Outcome o;
  start_durable("*", 2000, &o);
  ASSERT_TRUE(run_until([&] { return o.status.has_value(); }));
  ASSERT_EQ(o.status, RedisStatus::kOk) << o.text;
  // No waiting here: WAIT answered only once the replica had it.
  RedisValue on_replica = replica_.command({"XRANGE", "s", "-", "+"});
  ASSERT_EQ(on_replica.elements.size(), 1u);
  EXPECT_EQ(on_replica.elements[0].elements[0].str, o.text);
}

// With the replica stopped a write is stored but not confirmed: kNotReplicated
// with its entry id, by its deadline. At 400 ms Redis' own WAIT timeout says
// so; at the sidecar's default 100 ms Redis checks that timeout only on its
// clock tick (up to 100 ms late), and the deadline says so.
TEST_F(DurableWritesTest, AStoppedReplicaMakesAWriteNotReplicatedByItsDeadline) {
  replica_.pause();
  for (uint64_t deadline_ms : {400, 100}) {
    Outcome o;
    auto started = std::chrono::steady_clock::now();
    start_durable("*", deadline_ms, &o);
    ASSERT_TRUE(run_until([&] { return o.status.has_value(); }));
    auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(o.status, RedisStatus::kNotReplicated) << deadline_ms << " ms";
    EXPECT_FALSE(o.text.empty()) << "the entry id is attached: the entry is in the stream";
    EXPECT_LT(took, std::chrono::milliseconds(deadline_ms + 100));
  }
  replica_.resume();
  EXPECT_EQ(primary_.command({"XLEN", "s"}).integer, 2);
}

TEST_F(DurableWritesTest, OneWaitCoversTheDurableCommandsOfALoopTurn) {
  long long before = wait_calls();
  std::vector<Outcome> outcomes(50);
  for (Outcome& o : outcomes) start_durable("*", 2000, &o);
  ASSERT_TRUE(run_until([&] {
    return std::all_of(outcomes.begin(), outcomes.end(),
                       [](const Outcome& o) { return o.status.has_value(); });
  }));
  for (const Outcome& o : outcomes) EXPECT_EQ(o.status, RedisStatus::kOk);
  EXPECT_EQ(wait_calls() - before, 1);
  EXPECT_EQ(replica_.command({"XLEN", "s"}).integer, 50);
}

// A WAIT blocks its connection on the server. Batches of later loop turns
// are held back until it answers, so that each WAIT's timeout starts when
// Redis runs it: with the replica stopped, every write fails as not
// replicated (stored, unconfirmed), none as a plain timeout; with the
// replica running, every write is acknowledged.
TEST_F(DurableWritesTest, LaterBatchesWaitForTheWaitOutOnTheirConnection) {
  for (bool replica_stopped : {true, false}) {
    SCOPED_TRACE(replica_stopped ? "replica stopped" : "replica running");
    if (replica_stopped) replica_.pause();
    std::vector<Outcome> outcomes(3);
    for (Outcome& o : outcomes) {
      start_durable("*", 1000, &o);
      uv_run(&loop_, UV_RUN_NOWAIT);  // a loop turn: this batch is flushed, or held back
    }
    ASSERT_TRUE(run_until([&] {
      return std::all_of(outcomes.begin(), outcomes.end(),
                         [](const Outcome& o) { return o.status.has_value(); });
    }));
    if (replica_stopped) replica_.resume();
    for (const Outcome& o : outcomes) {
      EXPECT_EQ(o.status, replica_stopped ? RedisStatus::kNotReplicated : RedisStatus::kOk);
    }
  }
}

TEST_F(DurableWritesTest, PlainWritesSendNoWait) {
  long long before = wait_calls();
  Outcome o = send({"XADD", "s", "*", "k", "v"});
  EXPECT_EQ(o.status, RedisStatus::kOk);
  EXPECT_EQ(wait_calls(), before);
}

}  // namespace
}  // namespace streamshift::redis_test
