// The Redis Cluster client against a real local cluster
// (tests/support/redis_cluster.h: 3 primaries, 3 replicas): commands land
// on the primary owning their key's slot, ASK and MOVED are followed during
// and after a slot's migration, nothing fails during a reshard, a failover
// and a killed primary are followed, one live seed among dead ones is
// enough, and durable writes are confirmed per primary.
#include "core/redis_cluster_client.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/redis_client_factory.h"
#include "tests/core/redis_client_fixture.h"
#include "tests/support/net.h"
#include "tests/support/redis_cluster.h"

namespace streamshift::redis_test {
namespace {

using std::chrono::seconds;
using testing::cluster_url;
using testing::key_in_slot;
using testing::key_in_slots;
using testing::RedisClusterSet;
using testing::slot_of;

/// A key in `primary`'s first slot range.
std::string key_on(const RedisClusterSet& cluster, size_t primary, const std::string& prefix) {
  for (const testing::ClusterNodeView& v : cluster.topology()) {
    if (cluster.node_at(v.port) == primary && !v.slots.empty())
      return key_in_slots(v.slots[0].first, v.slots[0].second, prefix);
  }
  ADD_FAILURE() << "node " << primary << " owns no slot";
  return prefix;
}

size_t another_primary(const RedisClusterSet& cluster, size_t not_this) {
  for (size_t p : cluster.primaries()) {
    if (p != not_this) return p;
  }
  ADD_FAILURE() << "no primary but node " << not_this;
  return RedisClusterSet::kNone;
}

class RedisClusterClientTest : public RedisClientTest {
 protected:
  ~RedisClusterClientTest() override {
    if (!cluster_client_) return;
    bool closed = false;
    cluster_client_->shutdown([&] { closed = true; });
    cluster_client_->close_now();
    if (client_) {  // a direct client beside it (measurements)
      client_->shutdown([] {});
      client_->close_now();
    }
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_TRUE(closed) << "on_closed did not run";
    cluster_client_.reset();
  }

  void make_cluster_client(const std::string& url, uint64_t connections = 1) {
    std::string why;
    std::optional<RedisEndpoint> ep = parse_redis_url(url, &why);
    ASSERT_TRUE(ep) << why;
    RedisOptions o = options(*ep, connections);
    o.on_ready_change = [this](int delta) { ready_gauge_ += delta; };
    o.primary_status = status_;
    uv_update_time(&loop_);
    std::unique_ptr<RedisCommands> made = make_redis_client(&loop_, std::move(o));
    cluster_client_.reset(dynamic_cast<RedisClusterClient*>(made.get()));
    ASSERT_TRUE(cluster_client_) << "make_redis_client did not pick the cluster client";
    made.release();
    cluster_client_->start();
  }
  bool cluster_ready(size_t n) {
    return run_until([&] { return cluster_client_->ready_connections() == n; }, seconds(30));
  }

  void start(const std::vector<std::string>& args, uint64_t timeout_ms, Outcome* o,
             uint8_t replicas = 0) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    RedisCommandArgs c{static_cast<int>(argv.size()), argv.data(), lens.data()};
    c.replicas = replicas;
    cluster_client_->command(c, timeout_ms, record, o);
  }
  Outcome call(const std::vector<std::string>& args, uint64_t timeout_ms = 2000,
               uint8_t replicas = 0) {
    Outcome o;
    start(args, timeout_ms, &o, replicas);
    EXPECT_TRUE(run_until([&] { return o.status.has_value(); }, seconds(30)));
    return o;
  }
  // SETs `key` again and again until one succeeds, for up to 30 s from
  // `since`: the ms from `since` to it, or -1.
  long long first_write(const std::string& key, const std::string& value, Clock::time_point since) {
    while (Clock::now() - since < seconds(30)) {
      if (call({"SET", key, value}, 1000).status == RedisStatus::kOk) return ms_since(since);
      run_until([] { return false; }, std::chrono::milliseconds(20));
    }
    return -1;
  }

  std::unique_ptr<RedisClusterClient> cluster_client_;
  int ready_gauge_ = 0;
  std::shared_ptr<RedisPrimaryStatus> status_ = std::make_shared<RedisPrimaryStatus>();
};

// A command whose connection drops after Redis ran it is not sent again:
// kConnectionLost ("it may have run") reaches the caller, as standalone.
// Redis runs the script (an XADD), then drops the connection over the
// reply's size (the output buffer limit).
TEST_F(RedisClusterClientTest, ACommandWhoseConnectionDropsAfterItRanIsNotResent) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());
  const size_t p = cluster.primaries().at(0);
  const std::string key = key_on(cluster, p, "lost");
  make_cluster_client(cluster.seed_url());
  ASSERT_TRUE(cluster_ready(3)) << cluster_client_->last_error();
  cluster.command_on(p, {"CONFIG", "SET", "client-output-buffer-limit", "normal 4096 4096 0"});
  Outcome o =
      call({"EVAL", "redis.call('XADD', KEYS[1], '*', 'f', 'v') return string.rep('x', 100000)",
            "1", key},
           3000);
  cluster.command_on(p, {"CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0"});
  EXPECT_EQ(o.status, RedisStatus::kConnectionLost) << o.text;
  EXPECT_EQ(cluster.command_on(p, {"XLEN", key}).integer, 1) << "the XADD ran more than once";
  EXPECT_EQ(cluster_client_->retries(), 0u);
}

// Two XADDs to one stream, the first waiting to be resent (its node's
// connection was down) when the second arrives (after the reconnection):
// the second waits behind the first and is stored after it.
TEST_F(RedisClusterClientTest, ALaterCommandDoesNotOvertakeOneWaitingForItsRetry) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());
  const size_t p = cluster.primaries().at(0);
  const std::string key = key_on(cluster, p, "order");
  make_cluster_client(cluster.seed_url());
  ASSERT_TRUE(cluster_ready(3)) << cluster_client_->last_error();
  auto id = [](const std::string& text) {
    const size_t dash = text.find('-');
    return std::make_pair(std::stoull(text.substr(0, dash)), std::stoull(text.substr(dash + 1)));
  };
  int inversions = 0;
  for (int i = 0; i < 10; ++i) {
    cluster.command_on(p, {"CLIENT", "KILL", "TYPE", "normal"});
    ASSERT_TRUE(run_until([&] { return cluster_client_->ready_connections() < 3; }, seconds(10)));
    Outcome a, b;
    start({"XADD", key, "*", "seq", "a" + std::to_string(i)}, 10000, &a);
    ASSERT_TRUE(
        run_until([&] { return cluster_client_->ready_connections() == 3 || a.status.has_value(); },
                  seconds(10)));
    start({"XADD", key, "*", "seq", "b" + std::to_string(i)}, 10000, &b);
    ASSERT_TRUE(run_until([&] { return a.status && b.status; }, seconds(15)));
    ASSERT_EQ(a.status, RedisStatus::kOk) << a.text;
    ASSERT_EQ(b.status, RedisStatus::kOk) << b.text;
    if (id(b.text) < id(a.text)) ++inversions;
  }
  EXPECT_EQ(inversions, 0) << "of 10, the later XADD was stored first";
}

// A command waiting in its slot's line whose deadline passes is answered
// kTimeout, once, and leaves the line: those before and after it (one
// arriving after the reconnection) keep their order.
TEST_F(RedisClusterClientTest, AWaiterPastItsDeadlineTimesOutAndTheOthersKeepTheirOrder) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());
  const size_t p = cluster.primaries().at(0);
  const std::string key = key_on(cluster, p, "line");
  make_cluster_client(cluster.seed_url());
  ASSERT_TRUE(cluster_ready(3)) << cluster_client_->last_error();
  cluster.command_on(p, {"CLIENT", "KILL", "TYPE", "normal"});
  ASSERT_TRUE(run_until([&] { return cluster_client_->ready_connections() < 3; }, seconds(10)));
  const uint64_t retries = cluster_client_->retries();
  Outcome a, b, c;
  start({"XADD", key, "*", "seq", "a"}, 10000, &a);
  ASSERT_EQ(cluster_client_->retries(), retries + 1) << "the first XADD was not refused";
  start({"XADD", key, "*", "seq", "b"}, 1, &b);
  ASSERT_TRUE(
      run_until([&] { return cluster_client_->ready_connections() == 3 || a.status.has_value(); },
                seconds(10)));
  start({"XADD", key, "*", "seq", "c"}, 10000, &c);  // after the reconnection
  ASSERT_TRUE(run_until([&] { return a.status && b.status && c.status; }, seconds(15)));
  EXPECT_EQ(b.status, RedisStatus::kTimeout) << b.text;
  ASSERT_EQ(a.status, RedisStatus::kOk) << a.text;
  ASSERT_EQ(c.status, RedisStatus::kOk) << c.text;
  const testing::RedisValue range = cluster.command_on(p, {"XRANGE", key, "-", "+"});
  ASSERT_EQ(range.elements.size(), 2u);
  EXPECT_EQ(range.elements[0].elements.at(1).elements.at(1).str, "a");
  EXPECT_EQ(range.elements[1].elements.at(1).elements.at(1).str, "c");
}

// A command the key table does not know (HSET: keyless to it, sent to any
// primary) is followed to the node its MOVED names, not routed again the
// same way.
TEST_F(RedisClusterClientTest, AMovedCommandIsSentToTheNodeItNames) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());
  make_cluster_client(cluster.seed_url());
  ASSERT_TRUE(cluster_ready(3)) << cluster_client_->last_error();
  for (size_t p : cluster.primaries()) {
    const std::string key = key_on(cluster, p, "unknown");
    Outcome o = call({"HSET", key, "f", "v"});
    EXPECT_EQ(o.status, RedisStatus::kOk) << key << ": " << o.text;
    EXPECT_EQ(cluster.command_on(p, {"HGET", key, "f"}).str, "v") << key;
  }
  // Two of the three keys are on another primary than the one asked.
  EXPECT_GE(cluster_client_->redirects_moved(), 2u);
}

TEST_F(RedisClusterClientTest, EveryPrimaryAnswersForTheKeysOfItsSlots) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());
  make_cluster_client(cluster.seed_url(), 2);
  ASSERT_TRUE(cluster_ready(6)) << cluster_client_->last_error();
  EXPECT_EQ(ready_gauge_, 6);
  EXPECT_EQ(cluster_client_->last_error(), "");
  const std::vector<size_t> primaries = cluster.primaries();
  ASSERT_EQ(primaries.size(), 3u);
  for (size_t p : primaries) {
    const std::string key = key_on(cluster, p, "every");
    EXPECT_EQ(call({"SET", key, "on-" + std::to_string(p)}).text, "OK") << key;
    EXPECT_EQ(cluster.command_on(p, {"GET", key}).str, "on-" + std::to_string(p)) << key;
    Outcome xadd = call({"XADD", key + ":s", "*", "f", "v"});
    EXPECT_EQ(xadd.status, RedisStatus::kOk) << xadd.text;
    EXPECT_EQ(call({"XLEN", key + ":s"}).integer, 1);
  }
  EXPECT_EQ(call({"PING"}).text, "PONG");  // keyless: any primary
  EXPECT_EQ(cluster_client_->redirects_moved(), 0u);
  EXPECT_EQ(cluster_client_->redirects_ask(), 0u);
}

// The routing's cost, measured: the same pipelined SETs (keys of one
// primary) through the cluster client and through a RedisClient straight
// to that primary, on this loop.
TEST_F(RedisClusterClientTest, MeasuredAgainstADirectClientToTheSamePrimary) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());
  const size_t primary = cluster.primaries().at(0);
  const std::string key = key_on(cluster, primary, "measure");
  make_cluster_client(cluster.seed_url());
  make_client(local(cluster.node(primary).port()));
  ASSERT_TRUE(cluster_ready(3)) << cluster_client_->last_error();
  ASSERT_TRUE(ready());
  constexpr size_t kCommands = 20000, kWindow = 500;
  auto run = [&](RedisCommands& c) -> long long {
    static const char* const argv[] = {"SET", nullptr, "v"};
    size_t sent = 0, ok = 0, answered = 0;
    struct Count {
      size_t* ok;
      size_t* answered;
    } count{&ok, &answered};
    const char* args[] = {argv[0], key.c_str(), argv[2]};
    const size_t lens[] = {3, key.size(), 1};
    const auto started = Clock::now();
    while (answered < kCommands) {
      while (sent < kCommands && sent - answered < kWindow) {
        ++sent;
        c.command(
            3, args, lens, 5000,
            [](void* data, const RedisResult& r) {
              auto* n = static_cast<Count*>(data);
              *n->ok += r.status == RedisStatus::kOk ? 1 : 0;
              ++*n->answered;
            },
            &count);
      }
      uv_run(&loop_, UV_RUN_ONCE);
    }
    EXPECT_EQ(ok, kCommands);
    return ms_since(started);
  };
  const long long direct = run(*client_);
  const long long routed = run(*cluster_client_);
  std::cout << "[ measured ] " << kCommands << " pipelined SETs (window " << kWindow
            << "): direct RedisClient " << direct << " ms, cluster client " << routed << " ms\n";
  EXPECT_EQ(cluster_client_->redirects_moved(), 0u);
}

TEST_F(RedisClusterClientTest, FollowsAskWhileASlotMigratesAndMovedOnceItHas) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());
  const std::string kept = "kept{moving}", absent = "absent{moving}";
  const uint16_t slot = slot_of(kept);
  const size_t from = cluster.node_for_slot(slot);
  const size_t to = another_primary(cluster, from);
  make_cluster_client(cluster.seed_url());
  ASSERT_TRUE(cluster_ready(3)) << cluster_client_->last_error();
  ASSERT_EQ(call({"SET", kept, "v"}).text, "OK");

  ASSERT_TRUE(cluster.begin_migration(slot, from, to));
  // The source has `kept`; `absent` is asked of the target.
  EXPECT_EQ(call({"GET", kept}).text, "v");
  EXPECT_EQ(cluster_client_->redirects_ask(), 0u);
  EXPECT_EQ(call({"SET", absent, "new"}).text, "OK");
  EXPECT_EQ(cluster_client_->redirects_ask(), 1u);
  EXPECT_EQ(cluster.command_asking(to, {"GET", absent}).str, "new");
  EXPECT_EQ(cluster.command_on(from, {"EXISTS", absent}).integer, 0);
  ASSERT_TRUE(cluster.migrate_keys(slot));
  EXPECT_EQ(call({"GET", kept}).text, "v");  // ASK again: the source has it no more
  EXPECT_EQ(cluster_client_->redirects_ask(), 2u);
  EXPECT_EQ(cluster_client_->redirects_moved(), 0u);

  ASSERT_TRUE(cluster.finish_migration(slot));
  EXPECT_EQ(call({"GET", absent}).text, "new");
  EXPECT_EQ(cluster_client_->redirects_moved(), 1u);
  // The map knows now: no more redirects for the slot.
  EXPECT_EQ(call({"GET", kept}).text, "v");
  EXPECT_EQ(cluster_client_->redirects_moved(), 1u);
  EXPECT_EQ(cluster_client_->redirects_ask(), 2u);
  // The process's status (its metrics) saw the same.
  RedisPrimaryStatus::View v = status_->view();
  EXPECT_EQ(v.cluster_events[static_cast<size_t>(RedisClusterEvent::kMoved)], 1u);
  EXPECT_EQ(v.cluster_events[static_cast<size_t>(RedisClusterEvent::kAsk)], 2u);
  EXPECT_GE(v.cluster_events[static_cast<size_t>(RedisClusterEvent::kTopologyRefresh)], 1u);
}

// A multi-key command over a migrating slot whose keys are split between
// source and target is answered TRYAGAIN: retried with backoff, and
// answered kTimeout, once, when its own deadline passes; it succeeds once
// the migration is finished.
TEST_F(RedisClusterClientTest, TryAgainIsRetriedUntilTheCommandsOwnDeadline) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());
  const std::string here = "here{split}", there = "there{split}";
  const uint16_t slot = slot_of(here);
  const size_t from = cluster.node_for_slot(slot);
  const size_t to = another_primary(cluster, from);
  make_cluster_client(cluster.seed_url());
  ASSERT_TRUE(cluster_ready(3)) << cluster_client_->last_error();
  ASSERT_EQ(call({"SET", here, "1"}).text, "OK");
  ASSERT_EQ(call({"SET", there, "2"}).text, "OK");
  ASSERT_TRUE(cluster.begin_migration(slot, from, to));
  ASSERT_EQ(cluster
                .command_on(from, {"MIGRATE", "127.0.0.1", std::to_string(cluster.node(to).port()),
                                   there, "0", "5000"})
                .str,
            "OK");

  const auto sent = Clock::now();
  Outcome split = call({"DEL", here, there}, 400);
  const long long took = ms_since(sent);
  EXPECT_EQ(split.status, RedisStatus::kTimeout) << split.text;
  EXPECT_GE(took, 390);
  EXPECT_LT(took, 2000);
  EXPECT_GT(cluster_client_->retries(), 1u);

  ASSERT_TRUE(cluster.finish_migration(slot));
  EXPECT_EQ(call({"DEL", here, there}).integer, 2);
}

TEST_F(RedisClusterClientTest, NoCommandFailsWhileSlotsAreResharded) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());
  const size_t from = cluster.primaries().at(0);
  const size_t to = cluster.primaries().at(1);
  uint16_t first = testing::kClusterSlots;
  for (const testing::ClusterNodeView& v : cluster.topology()) {
    if (cluster.node_at(v.port) == from) first = v.slots.at(0).first;
  }
  ASSERT_LT(first, testing::kClusterSlots);
  // Keys in the source's lowest slots: redis-cli moves those first.
  std::vector<std::string> keys;
  for (uint16_t s = first; s < first + 40; ++s) keys.push_back(key_in_slot(s, "flow"));
  make_cluster_client(cluster.seed_url());
  ASSERT_TRUE(cluster_ready(3)) << cluster_client_->last_error();

  std::atomic<bool> resharded{false}, done{false};
  std::thread reshard([&] {
    resharded = cluster.reshard(from, to, 20);
    done = true;
  });
  size_t sent = 0, failed = 0;
  std::string first_failure;
  std::vector<Outcome> outcomes(keys.size());
  std::vector<size_t> value(keys.size(), 0);
  std::vector<bool> busy(keys.size(), false);
  auto set = [&](size_t i) {
    value[i] = ++sent;
    outcomes[i] = Outcome{};
    busy[i] = true;
    start({"SET", keys[i], std::to_string(value[i])}, 3000, &outcomes[i]);
  };
  // One command in flight per key, each sent again once answered, until
  // the reshard is over and as many more were answered as there are keys.
  for (size_t i = 0; i < keys.size(); ++i) set(i);
  bool after = false;
  size_t answered_after = 0, in_flight = keys.size();
  const auto limit = Clock::now() + seconds(120);
  while (in_flight > 0 && Clock::now() < limit) {
    uv_run(&loop_, UV_RUN_NOWAIT);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    for (size_t i = 0; i < keys.size(); ++i) {
      if (!busy[i] || !outcomes[i].status) continue;
      busy[i] = false;
      --in_flight;
      if (*outcomes[i].status != RedisStatus::kOk && ++failed == 1) {
        first_failure = keys[i] + ": " + std::string(redis_status_name(*outcomes[i].status)) + " " +
                        outcomes[i].text;
      }
      if (after) ++answered_after;
      if (!after || answered_after < keys.size()) {
        set(i);
        ++in_flight;
      }
    }
    if (done) after = true;
  }
  reshard.join();
  ASSERT_TRUE(resharded);
  ASSERT_EQ(in_flight, 0u);
  std::cout << "[ measured ] reshard of 20 slots under load: " << sent << " SETs, " << failed
            << " failed, " << cluster_client_->redirects_moved() << " MOVED, "
            << cluster_client_->redirects_ask() << " ASK, " << cluster_client_->retries()
            << " retries\n";
  EXPECT_EQ(failed, 0u) << first_failure;
  EXPECT_GT(cluster_client_->redirects_moved(), 0u);
  // Every key holds its last value, on the node owning it now.
  for (size_t i = 0; i < keys.size(); ++i) {
    const size_t owner = cluster.node_for_slot(slot_of(keys[i]));
    EXPECT_EQ(cluster.command_on(owner, {"GET", keys[i]}).str, std::to_string(value[i])) << keys[i];
  }
}

TEST_F(RedisClusterClientTest, FollowsAClusterFailover) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());
  const size_t primary = cluster.primaries().at(0);
  const size_t replica = cluster.replica_of(primary);
  ASSERT_NE(replica, RedisClusterSet::kNone);
  const std::string key = key_on(cluster, primary, "failover");
  // Seeds other than `primary`, so that only the node client connects there.
  std::vector<uint16_t> seeds;
  for (size_t i = 0; i < RedisClusterSet::kNodes; ++i) {
    if (i != primary) seeds.push_back(cluster.node(i).port());
  }
  make_cluster_client(cluster_url(seeds));
  ASSERT_TRUE(cluster_ready(3)) << cluster_client_->last_error();
  ASSERT_EQ(call({"SET", key, "before"}).text, "OK");

  ASSERT_TRUE(cluster.failover(replica, seconds(30)));
  const long long took = first_write(key, "after", Clock::now());
  std::cout << "[ measured ] CLUSTER FAILOVER settled -> first write " << took << " ms\n";
  ASSERT_GE(took, 0) << cluster_client_->last_error();
  EXPECT_LT(took, 3000);
  EXPECT_EQ(cluster.command_on(replica, {"GET", key}).str, "after");
  EXPECT_TRUE(cluster_ready(3)) << cluster_client_->last_error();
  // The former primary, a replica now, serves no slot: its client is shut
  // down (only the fixture's own connection is left there).
  EXPECT_TRUE(run_until(
      [&] {
        const std::string clients =
            cluster.command_on(primary, {"CLIENT", "LIST", "TYPE", "normal"}).str;
        return std::count(clients.begin(), clients.end(), '\n') == 1;
      },
      seconds(10)))
      << cluster.command_on(primary, {"CLIENT", "LIST", "TYPE", "normal"}).str;
}

TEST_F(RedisClusterClientTest, FollowsTheReplicaOfAKilledPrimary) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());
  const size_t primary = cluster.primaries().at(1);
  const size_t replica = cluster.replica_of(primary);
  ASSERT_NE(replica, RedisClusterSet::kNone);
  const std::string key = key_on(cluster, primary, "killed");
  make_cluster_client(cluster.seed_url());
  ASSERT_TRUE(cluster_ready(3)) << cluster_client_->last_error();
  ASSERT_EQ(call({"SET", key, "before"}).text, "OK");

  cluster.kill_primary(primary);
  ASSERT_TRUE(cluster.wait_for_promotion(seconds(30)));
  const long long took = first_write(key, "after", Clock::now());
  std::cout << "[ measured ] killed primary, promotion settled -> first write " << took << " ms\n";
  ASSERT_GE(took, 0) << cluster_client_->last_error();
  EXPECT_LT(took, 3000);
  EXPECT_EQ(cluster.command_on(replica, {"GET", key}).str, "after");
  // The dead node is dropped from the map: readiness counts the three
  // primaries serving slots.
  EXPECT_TRUE(cluster_ready(3)) << cluster_client_->last_error();
}

TEST_F(RedisClusterClientTest, OneLiveSeedAfterDeadOnesIsEnough) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());
  make_cluster_client(cluster_url({testing::free_port(), testing::free_port(),
                                   cluster.node(cluster.primaries().at(2)).port()}));
  ASSERT_TRUE(cluster_ready(3)) << cluster_client_->last_error();
  EXPECT_EQ(call({"SET", key_on(cluster, cluster.primaries().at(0), "seed"), "v"}).text, "OK");
}

TEST_F(RedisClusterClientTest, WithoutAReachableSeedCommandsAreRefusedAndTheErrorSaysWhy) {
  make_cluster_client(cluster_url({testing::free_port(), testing::free_port()}));
  ASSERT_TRUE(run_until(
      [&] {
        return cluster_client_->last_error().find("no seed reachable: ") != std::string::npos;
      },
      seconds(10)))
      << cluster_client_->last_error();
  EXPECT_EQ(cluster_client_->ready_connections(), 0u);
  EXPECT_EQ(call({"SET", "k", "v"}).status, RedisStatus::kNotConnected);
}

TEST_F(RedisClusterClientTest, DurableWritesAreConfirmedByTheKeysOwnPrimarysReplica) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());
  make_cluster_client(cluster.seed_url());
  ASSERT_TRUE(cluster_ready(3)) << cluster_client_->last_error();
  for (size_t p : cluster.primaries()) {
    const std::string key = key_on(cluster, p, "durable");
    Outcome o = call({"XADD", key, "*", "f", "v"}, 3000, 1);
    EXPECT_EQ(o.status, RedisStatus::kOk) << key << ": " << o.text;
  }
  // One primary's replica frozen: its keys are not confirmed, the others are.
  const size_t frozen_primary = cluster.primaries().at(0);
  const size_t replica = cluster.replica_of(frozen_primary);
  ASSERT_NE(replica, RedisClusterSet::kNone);
  const std::string frozen_key = key_on(cluster, frozen_primary, "frozen");
  const std::string other_key = key_on(cluster, cluster.primaries().at(1), "other");
  cluster.node(replica).pause();
  Outcome frozen = call({"XADD", frozen_key, "*", "f", "v"}, 500, 1);
  Outcome other = call({"XADD", other_key, "*", "f", "v"}, 3000, 1);
  cluster.node(replica).resume();
  EXPECT_EQ(frozen.status, RedisStatus::kNotReplicated) << frozen.text;
  EXPECT_EQ(other.status, RedisStatus::kOk) << other.text;
}

}  // namespace
}  // namespace streamshift::redis_test
