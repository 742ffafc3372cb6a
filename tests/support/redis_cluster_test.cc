// The Redis Cluster fixture's pure parts: hash slots, keys made for a slot,
// the seed URL, CLUSTER NODES parsing.
#include "tests/support/redis_cluster.h"

#include <gtest/gtest.h>

namespace streamshift::testing {
namespace {

TEST(SlotOf, IsWhatClusterKeyslotAnswers) {
  // redis-server 7.0.15's CLUSTER KEYSLOT for each key.
  EXPECT_EQ(slot_of("foo"), 12182);
  EXPECT_EQ(slot_of("bar"), 5061);
  EXPECT_EQ(slot_of("hello"), 866);
  EXPECT_EQ(slot_of("somekey"), 11058);
  EXPECT_EQ(slot_of("123456789"), 12739);
  EXPECT_EQ(slot_of(""), 0);
}

TEST(SlotOf, HashesOnlyTheFirstNonEmptyHashTag) {
  EXPECT_EQ(slot_of("{user1000}.following"), 3443);
  EXPECT_EQ(slot_of("{user1000}.followers"), 3443);
  EXPECT_EQ(slot_of("foo{bar}{zap}"), slot_of("bar"));
  EXPECT_EQ(slot_of("foo{{bar}}zap"), slot_of("{bar"));
  EXPECT_EQ(slot_of("foo{{bar}}zap"), 4015);
  // An empty first tag: the whole key.
  EXPECT_EQ(slot_of("foo{}{bar}"), 8363);
  // No closing brace: the whole key.
  EXPECT_EQ(slot_of("foo{bar"), slot_of(std::string("foo{bar")));
  EXPECT_NE(slot_of("foo{bar"), slot_of("bar"));
}

TEST(KeyInSlot, MakesKeysOfTheSlotThatShareOneTag) {
  for (uint16_t slot : {0, 1, 866, 5460, 5461, 12182, 16383}) {
    std::string a = key_in_slot(slot, "a");
    std::string b = key_in_slot(slot, "b");
    EXPECT_EQ(slot_of(a), slot) << a;
    EXPECT_EQ(slot_of(b), slot) << b;
    EXPECT_EQ(a.substr(0, 2), "a{") << a;
    EXPECT_EQ(a.substr(1), b.substr(1));
  }
  std::string k = key_in_slots(100, 200, "probe");
  EXPECT_GE(slot_of(k), 100) << k;
  EXPECT_LE(slot_of(k), 200) << k;
}

TEST(ClusterUrl, ListsEverySeed) {
  EXPECT_EQ(cluster_url({7000, 7001, 7002}),
            "redis-cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002");
  EXPECT_EQ(cluster_url({7000}, "rediss-cluster"), "rediss-cluster://127.0.0.1:7000");
}

TEST(ParseClusterNodes, ReadsRolesSlotsAndFailuresAndSkipsMigrationMarkers) {
  // CLUSTER NODES of redis 7.0 during a migration of slot 866, one primary
  // failed.
  const std::string text =
      "dd9f 127.0.0.1:21500@21600 myself,master - 0 1796024053000 1 connected 0-5460 "
      "[866->-9acd]\n"
      "9acd 127.0.0.1:21501@21601 master - 0 1796024053000 2 connected 5461-10922 [866-<-dd9f]\n"
      "404c 127.0.0.1:21503@21603 slave 9acd 0 1796024056509 8 connected\n"
      "9860 127.0.0.1:21502@21602,node-2 master,fail - 1796024050000 1796024049000 3 "
      "disconnected\n"
      "40cc 127.0.0.1:21504@21604 master - 0 1796024056108 9 connected 866 10923-16383\n";
  std::vector<ClusterNodeView> nodes = parse_cluster_nodes(text);
  ASSERT_EQ(nodes.size(), 5u);

  EXPECT_EQ(nodes[0].id, "dd9f");
  EXPECT_EQ(nodes[0].port, 21500);
  EXPECT_TRUE(nodes[0].primary);
  EXPECT_FALSE(nodes[0].failing);
  ASSERT_EQ(nodes[0].slots.size(), 1u);
  EXPECT_EQ(nodes[0].slots[0], std::make_pair(uint16_t{0}, uint16_t{5460}));

  EXPECT_EQ(nodes[1].slots.size(), 1u);

  EXPECT_FALSE(nodes[2].primary);
  EXPECT_EQ(nodes[2].primary_id, "9acd");
  EXPECT_TRUE(nodes[2].slots.empty());

  EXPECT_EQ(nodes[3].port, 21502);
  EXPECT_TRUE(nodes[3].failing);
  EXPECT_TRUE(nodes[3].primary);

  ASSERT_EQ(nodes[4].slots.size(), 2u);
  EXPECT_EQ(nodes[4].slots[0], std::make_pair(uint16_t{866}, uint16_t{866}));
  EXPECT_EQ(nodes[4].slots[1], std::make_pair(uint16_t{10923}, uint16_t{16383}));
}

}  // namespace
}  // namespace streamshift::testing
