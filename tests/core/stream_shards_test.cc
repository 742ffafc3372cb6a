// Shard names, the room's shard and the read groups (core/stream_shards.h).
#include "core/stream_shards.h"

#include <gtest/gtest.h>

#include <set>

#include "core/redis_key_slot.h"
#include "core/stable_hash.h"
#include "tests/support/env_map.h"

namespace streamshift {
namespace {

TEST(StreamShards, OneShardKeepsTheLogicalName) {
  EXPECT_EQ(shard_stream_name("events:chat", 1, 0), "events:chat");
  StreamShards s({"events:chat", "events:ticket"}, 1);
  EXPECT_EQ(s.physical(), (std::vector<std::string>{"events:chat", "events:ticket"}));
  EXPECT_EQ(room_shard("any room", 1), 0);
}

TEST(StreamShards, ShardKCarriesTheHashTagSk) {
  EXPECT_EQ(shard_stream_name("events:chat", 4, 0), "events:chat:{s0}");
  EXPECT_EQ(shard_stream_name("events:chat", 64, 63), "events:chat:{s63}");
  StreamShards s({"a", "b"}, 3);
  EXPECT_EQ(s.physical(),
            (std::vector<std::string>{"a:{s0}", "a:{s1}", "a:{s2}", "b:{s0}", "b:{s1}", "b:{s2}"}));
  EXPECT_EQ(s.logical_index(4), 1u);
  EXPECT_EQ(s.shard_index(4), 1);
  // Shard k of every logical stream shares one slot.
  EXPECT_EQ(redis_key_slot("a:{s1}"), redis_key_slot("b:{s1}"));
  EXPECT_EQ(redis_key_slot("a:{s1}"), redis_key_slot("s1"));
}

TEST(StreamShards, TheRoomHashIsTheRolloutsFnv1a) {
  // Fixed values: every replica, and every release, agrees on a room's shard.
  EXPECT_EQ(room_hash(""), 1469598103934665603ULL);
  EXPECT_EQ(room_hash("room-1"), 398126587771263742ULL);  // the worked example of the docs
  EXPECT_EQ(room_shard("room-1", 4), 2);
  EXPECT_EQ(room_shard("room-1", 64), static_cast<int>(398126587771263742ULL % 64));
}

TEST(StreamShards, SixtyRoomsSpreadOverFourShards) {
  std::set<int> used;
  for (int r = 0; r < 60; ++r) {
    int k = room_shard("room-" + std::to_string(r), 4);
    ASSERT_GE(k, 0);
    ASSERT_LT(k, 4);
    used.insert(k);
  }
  EXPECT_EQ(used.size(), 4u);
}

TEST(StreamShards, ReadGroupsAreOnePerShardIndex) {
  StreamShards s({"a", "b"}, 2);
  EXPECT_EQ(s.read_groups(false), (std::vector<std::vector<size_t>>{{0, 2}, {1, 3}}));
  EXPECT_EQ(s.read_groups(true), (std::vector<std::vector<size_t>>{{0, 2}, {1, 3}}));
}

TEST(StreamShards, UnshardedStreamsAreReadTogetherExceptOnACluster) {
  StreamShards s({"events:chat", "events:ticket", "events:chat2"}, 1);
  EXPECT_EQ(s.read_groups(false), (std::vector<std::vector<size_t>>{{0, 1, 2}}));
  std::vector<std::vector<size_t>> by_slot = s.read_groups(true);
  ASSERT_EQ(by_slot.size(), 3u);  // three names, three slots
  for (const auto& group : by_slot) {
    ASSERT_EQ(group.size(), 1u);
  }
}

TEST(StreamShards, SettingIsReadAndBoundedWithTheUsualWording) {
  EnvReader defaults = testing::env_from({});
  EXPECT_EQ(load_stream_shards(defaults), 1);
  EnvReader four = testing::env_from({{"EVENT_TRANSPORT_STREAM_SHARDS", "4"}});
  EXPECT_EQ(load_stream_shards(four), 4);
  ASSERT_TRUE(four.ok());
  EnvReader bad = testing::env_from({{"EVENT_TRANSPORT_STREAM_SHARDS", "65"}});
  load_stream_shards(bad);
  ASSERT_EQ(bad.errors().size(), 1u);
  EXPECT_EQ(bad.errors()[0].name, "EVENT_TRANSPORT_STREAM_SHARDS");
}

TEST(StreamShards, NamesWithTheirOwnHashTagAreRefusedWhenSharded) {
  EnvReader env = testing::env_from({});
  check_shardable(env, 1, {"events:{chat}"});
  EXPECT_TRUE(env.ok());
  check_shardable(env, 4, {"events:chat", "events:{chat}", "x}"});
  ASSERT_EQ(env.errors().size(), 2u);
  EXPECT_EQ(env.errors()[0].name, "EVENT_TRANSPORT_STREAM_SHARDS");
  EXPECT_NE(env.error_report().find("events:{chat}"), std::string::npos) << env.error_report();
}

}  // namespace
}  // namespace streamshift
