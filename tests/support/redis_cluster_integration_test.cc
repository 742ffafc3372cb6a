// RedisClusterSet: three primaries and three replicas (and other shapes:
// one primary alone, three without replicas, two with a replica each) that
// come up owning every slot, hash tags keeping keys together, a slot moved by hand (ASK
// while it migrates, MOVED once done) and by redis-cli, and both kinds of
// failover: CLUSTER FAILOVER and a SIGKILLed primary.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <set>

#include "tests/support/redis_cluster.h"

namespace streamshift::testing {
namespace {

using std::chrono::seconds;

std::string address(RedisClusterSet& cluster, size_t node) {
  return "127.0.0.1:" + std::to_string(cluster.node(node).port());
}

/// Another primary than `not_this`.
size_t other_primary(const RedisClusterSet& cluster, size_t not_this) {
  for (size_t p : cluster.primaries()) {
    if (p != not_this) return p;
  }
  return RedisClusterSet::kNone;
}

/// The slots each node owns, counted in `cluster`'s view.
std::vector<int> slot_counts(const RedisClusterSet& cluster) {
  std::vector<int> counts(cluster.size(), 0);
  for (const ClusterNodeView& v : cluster.topology()) {
    for (auto [first, last] : v.slots) counts.at(cluster.node_at(v.port)) += last - first + 1;
  }
  return counts;
}

struct Written {
  uint16_t slot;
  size_t primary, replica;
};
/// `key` set to "v" on its primary, which its replica acknowledged (WAIT).
Written write_replicated(RedisClusterSet& cluster, const std::string& key) {
  Written w{slot_of(key), RedisClusterSet::kNone, RedisClusterSet::kNone};
  w.primary = cluster.node_for_slot(w.slot);
  w.replica = cluster.replica_of(w.primary);
  EXPECT_NE(w.replica, RedisClusterSet::kNone) << "node " << w.primary << " has no replica";
  EXPECT_EQ(cluster.command_on(w.primary, {"SET", key, "v"}).str, "OK");
  EXPECT_EQ(cluster.command_on(w.primary, {"WAIT", "1", "5000"}).integer, 1);
  return w;
}

TEST(RedisClusterSet, ComesUpWithThreePrimariesOwningEverySlotEachWithAReplica) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());

  std::vector<size_t> primaries = cluster.primaries();
  ASSERT_EQ(primaries.size(), 3u);
  std::vector<int> owners(kClusterSlots, 0);
  for (const ClusterNodeView& v : cluster.topology()) {
    for (auto [first, last] : v.slots) {
      for (uint32_t s = first; s <= last; ++s) ++owners[s];
    }
  }
  EXPECT_EQ(std::count(owners.begin(), owners.end(), 1), kClusterSlots)
      << "every slot owned by exactly one node";

  std::set<size_t> replicas;
  for (size_t p : primaries) {
    size_t r = cluster.replica_of(p);
    ASSERT_NE(r, RedisClusterSet::kNone) << "primary " << p;
    replicas.insert(r);
    RedisValue role = cluster.command_on(r, {"ROLE"});
    ASSERT_GE(role.elements.size(), 3u);
    EXPECT_EQ(role.elements[0].str, "slave");
    EXPECT_EQ(role.elements[2].integer, cluster.node(p).port());
    EXPECT_EQ(cluster.primary_of(r), p);
  }
  EXPECT_EQ(replicas.size(), 3u);
  for (size_t i = 0; i < cluster.size(); ++i) {
    std::string info = cluster.command_on(i, {"CLUSTER", "INFO"}).str;
    EXPECT_NE(info.find("cluster_state:ok"), std::string::npos) << "node " << i << ": " << info;
    EXPECT_NE(info.find("cluster_known_nodes:6"), std::string::npos) << "node " << i;
  }
  std::vector<uint16_t> ports = cluster.ports();
  EXPECT_EQ(cluster.seed_url(), cluster_url(ports));
  EXPECT_EQ(cluster.seed_url().rfind("redis-cluster://127.0.0.1:" + std::to_string(ports[0]) +
                                         ",127.0.0.1:" + std::to_string(ports[1]) + ",",
                                     0),
            0u)
      << cluster.seed_url();

  // A key's owner takes it; another primary sends the client there.
  const std::string key = "greeting";
  const size_t owner = cluster.node_for_slot(slot_of(key));
  ASSERT_NE(owner, RedisClusterSet::kNone);
  EXPECT_EQ(cluster.command_on(owner, {"SET", key, "hi"}).str, "OK");
  EXPECT_EQ(cluster.command_on(other_primary(cluster, owner), {"GET", key}).str,
            "MOVED " + std::to_string(slot_of(key)) + " " + address(cluster, owner));
}

/// The slot ranges each primary owns, by its index, in `cluster`'s view.
std::map<size_t, std::vector<std::pair<uint16_t, uint16_t>>> ranges(
    const RedisClusterSet& cluster) {
  std::map<size_t, std::vector<std::pair<uint16_t, uint16_t>>> out;
  for (const ClusterNodeView& v : cluster.topology()) {
    if (v.primary && !v.slots.empty()) out[cluster.node_at(v.port)] = v.slots;
  }
  return out;
}

TEST(RedisClusterSet, OnePrimaryAloneOwnsEverySlotAndTakesWrites) {
  RedisClusterSet cluster(ClusterShape{.primaries = 1, .replicas_per_primary = 0});
  ASSERT_TRUE(cluster.ready());
  ASSERT_EQ(cluster.size(), 1u);
  EXPECT_EQ(cluster.primaries(), std::vector<size_t>{0});
  using Ranges = std::vector<std::pair<uint16_t, uint16_t>>;
  EXPECT_EQ(ranges(cluster)[0], (Ranges{{0, kClusterSlots - 1}}));
  EXPECT_EQ(cluster.replica_of(0), RedisClusterSet::kNone);
  EXPECT_NE(cluster.command_on(0, {"CLUSTER", "INFO"}).str.find("cluster_state:ok"),
            std::string::npos);
  for (const std::string key : {"events:chat:{s0}", "events:chat:{s7}", "foo"}) {
    EXPECT_EQ(cluster.command_on(0, {"XADD", key, "*", "f", "v"}).type, REDIS_REPLY_STRING) << key;
    EXPECT_EQ(cluster.read_stream(key).size(), 1u) << key;
  }
}

TEST(RedisClusterSet, ThreePrimariesWithoutReplicasSplitTheSlotsEvenly) {
  RedisClusterSet cluster(ClusterShape{.primaries = 3, .replicas_per_primary = 0});
  ASSERT_TRUE(cluster.ready());
  ASSERT_EQ(cluster.size(), 3u);
  ASSERT_EQ(cluster.primaries().size(), 3u);
  const std::vector<int> counts = slot_counts(cluster);
  for (size_t p = 0; p < 3; ++p) {
    EXPECT_NEAR(counts[p], kClusterSlots / 3, 1) << "node " << p;
    EXPECT_EQ(cluster.replica_of(p), RedisClusterSet::kNone);
  }
}

TEST(RedisClusterSet, TwoPrimariesJoinedByHandEachGetAReplicaThatTakesOver) {
  RedisClusterSet cluster(ClusterShape{.primaries = 2, .replicas_per_primary = 1});
  ASSERT_TRUE(cluster.ready());
  ASSERT_EQ(cluster.size(), 4u);
  EXPECT_EQ(cluster.primaries(), (std::vector<size_t>{0, 1}));
  using Ranges = std::vector<std::pair<uint16_t, uint16_t>>;
  EXPECT_EQ(ranges(cluster)[0], (Ranges{{0, 8191}}));
  EXPECT_EQ(ranges(cluster)[1], (Ranges{{8192, 16383}}));
  EXPECT_EQ(cluster.replica_of(0), 2u);
  EXPECT_EQ(cluster.replica_of(1), 3u);
  // The hand-made cluster fails over like redis-cli's.
  const std::string key = "before{failover}";
  const auto [slot, primary, replica] = write_replicated(cluster, key);
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(cluster.failover(replica, seconds(30)));
  EXPECT_EQ(cluster.node_for_slot(slot), replica);
  EXPECT_EQ(cluster.command_on(replica, {"GET", key}).str, "v");
}

TEST(RedisClusterSet, KeysWithOneHashTagLandOnOneNodeAndRoomsSpreadOverEveryPrimary) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());

  // The fixture's slot_of is the server's.
  for (const std::string key : {"foo", "events:chat", "events:{room:7}:0", "a{b}c", "x{}{y}",
                                "x{{y}}z", "{", "}{", "dedup:{room:7}"}) {
    EXPECT_EQ(slot_of(key), cluster.command_on(0, {"CLUSTER", "KEYSLOT", key}).integer) << key;
  }

  const std::string stream = "events:{room:42}:0", mark = "dedup:{room:42}";
  ASSERT_EQ(slot_of(stream), slot_of(mark));
  const size_t owner = cluster.node_for_slot(slot_of(stream));
  ASSERT_NE(owner, RedisClusterSet::kNone);
  // Both keys in one command: one slot.
  EXPECT_EQ(cluster.command_on(owner, {"MSET", stream, "1", mark, "2"}).str, "OK");
  // Two tags in one command: refused, even when one node owns both slots.
  const std::string elsewhere = "events:{room:43}:0";
  ASSERT_NE(slot_of(elsewhere), slot_of(stream));
  EXPECT_EQ(cluster.command_on(owner, {"MGET", stream, elsewhere}).str.rfind("CROSSSLOT", 0), 0u);

  // 60 rooms, one tag each: every primary gets some, and takes its rooms'
  // entries.
  std::set<size_t> used;
  for (int room = 0; room < 60; ++room) {
    const std::string key = "events:{room:" + std::to_string(room) + "}";
    const size_t node = cluster.node_for_slot(slot_of(key));
    used.insert(node);
    RedisValue id = cluster.command_on(node, {"XADD", key, "*", "room", std::to_string(room)});
    EXPECT_EQ(id.type, REDIS_REPLY_STRING) << key << ": " << id.str;
  }
  EXPECT_EQ(used.size(), 3u);
}

TEST(RedisClusterSet, AMigratingSlotAnswersAskForAMissingKeyAndMovedOnceFinished) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());
  const std::string kept = "kept{moving}", absent = "absent{moving}";
  const uint16_t slot = slot_of(kept);
  ASSERT_EQ(slot_of(absent), slot);
  const size_t from = cluster.node_for_slot(slot);
  const size_t to = other_primary(cluster, from);
  ASSERT_NE(to, RedisClusterSet::kNone);
  ASSERT_EQ(cluster.command_on(from, {"SET", kept, "v"}).str, "OK");
  const std::string ask = "ASK " + std::to_string(slot) + " " + address(cluster, to);

  ASSERT_TRUE(cluster.begin_migration(slot, from, to));
  // The source serves the keys it still has and sends the rest on.
  EXPECT_EQ(cluster.command_on(from, {"GET", kept}).str, "v");
  EXPECT_EQ(cluster.command_on(from, {"GET", absent}).str, ask);
  // The target takes the slot's keys only after ASKING.
  EXPECT_EQ(cluster.command_on(to, {"SET", absent, "new"}).str,
            "MOVED " + std::to_string(slot) + " " + address(cluster, from));
  EXPECT_EQ(cluster.command_asking(to, {"SET", absent, "new"}).str, "OK");
  EXPECT_EQ(cluster.node_for_slot(slot), from);

  ASSERT_TRUE(cluster.migrate_keys(slot));
  EXPECT_EQ(cluster.command_on(from, {"GET", kept}).str, ask);
  EXPECT_EQ(cluster.command_asking(to, {"GET", kept}).str, "v");

  ASSERT_TRUE(cluster.finish_migration(slot));
  EXPECT_EQ(cluster.node_for_slot(slot), to);
  EXPECT_EQ(cluster.command_on(to, {"GET", kept}).str, "v");
  EXPECT_EQ(cluster.command_on(to, {"GET", absent}).str, "new");
  // Every other node, replicas included, now sends the slot to the target.
  const std::string moved = "MOVED " + std::to_string(slot) + " " + address(cluster, to);
  for (size_t i = 0; i < cluster.size(); ++i) {
    if (i == to) continue;
    EXPECT_EQ(cluster.command_on(i, {"GET", kept}).str, moved) << "node " << i;
  }
}

TEST(RedisClusterSet, RedisCliReshardMovesSlotsWithTheirKeys) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());
  const size_t from = cluster.primaries().at(0);
  const size_t to = cluster.primaries().at(1);
  const std::vector<int> before = slot_counts(cluster);
  // A key in each of the source's first 20 slots (redis-cli moves a
  // source's lowest slots first).
  uint16_t first = kClusterSlots;
  for (const ClusterNodeView& v : cluster.topology()) {
    if (cluster.node_at(v.port) == from) first = v.slots.at(0).first;
  }
  ASSERT_LT(first, kClusterSlots);
  std::vector<std::string> keys;
  for (uint16_t s = first; s < first + 20; ++s) {
    keys.push_back(key_in_slot(s, "resharded"));
    ASSERT_EQ(cluster.command_on(from, {"SET", keys.back(), keys.back()}).str, "OK");
  }

  ASSERT_TRUE(cluster.reshard(from, to, 10));

  const std::vector<int> after = slot_counts(cluster);
  EXPECT_EQ(after[from], before[from] - 10);
  EXPECT_EQ(after[to], before[to] + 10);
  size_t on_target = 0;
  for (const std::string& key : keys) {
    const size_t owner = cluster.node_for_slot(slot_of(key));
    on_target += owner == to ? 1 : 0;
    EXPECT_EQ(cluster.command_on(owner, {"GET", key}).str, key) << key << " on node " << owner;
  }
  EXPECT_EQ(on_target, 10u);
}

TEST(RedisClusterSet, ClusterFailoverSwapsAReplicaAndItsPrimary) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());
  const std::string key = "before{failover}";
  const auto [slot, primary, replica] = write_replicated(cluster, key);
  ASSERT_FALSE(HasFailure());

  ClusterPromotion promotion = cluster.failover(replica, seconds(30));
  ASSERT_TRUE(promotion);
  std::cout << "[ measured ] CLUSTER FAILOVER -> replica's ROLE master "
            << promotion.replica_master.count() << " ms, cluster settled "
            << promotion.settled.count() << " ms\n";

  EXPECT_EQ(promotion.node, replica);
  EXPECT_EQ(cluster.primary_of(primary), replica);
  EXPECT_EQ(cluster.replica_of(replica), primary);
  EXPECT_EQ(cluster.node_for_slot(slot), replica);
  EXPECT_EQ(cluster.command_on(replica, {"GET", key}).str, "v");
  EXPECT_EQ(cluster.command_on(primary, {"GET", key}).str,
            "MOVED " + std::to_string(slot) + " " + address(cluster, replica));
  EXPECT_EQ(cluster.command_on(primary, {"ROLE"}).elements.at(0).str, "slave");
}

TEST(RedisClusterSet, ASigkilledPrimaryIsReplacedByItsReplicaWithinSeconds) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());
  const std::string key = "before{kill}";
  const auto [slot, primary, replica] = write_replicated(cluster, key);
  ASSERT_FALSE(HasFailure());

  cluster.kill_primary(primary);
  ClusterPromotion promotion = cluster.wait_for_promotion(seconds(30));
  ASSERT_TRUE(promotion);
  std::cout << "[ measured ] SIGKILL of a primary -> its replica's ROLE master "
            << promotion.replica_master.count() << " ms, cluster settled "
            << promotion.settled.count() << " ms (cluster-node-timeout "
            << RedisClusterSet::kNodeTimeoutMs << " ms)\n";
  EXPECT_EQ(promotion.node, replica);
  EXPECT_LT(promotion.replica_master, seconds(10));
  EXPECT_EQ(cluster.node_for_slot(slot), replica);
  EXPECT_EQ(cluster.command_on(replica, {"GET", key}).str, "v");
  EXPECT_EQ(cluster.primaries().size(), 3u);

  // The killed node comes back as the new primary's replica.
  ASSERT_TRUE(cluster.rejoin());
  EXPECT_EQ(cluster.primary_of(primary), replica);
  EXPECT_EQ(cluster.command_on(primary, {"ROLE"}).elements.at(0).str, "slave");
  EXPECT_EQ(cluster.command_on(replica, {"SET", key, "after"}).str, "OK");
  EXPECT_EQ(cluster.command_on(replica, {"WAIT", "1", "5000"}).integer, 1);
}

}  // namespace
}  // namespace streamshift::testing
