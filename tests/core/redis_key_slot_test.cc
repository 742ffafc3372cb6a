// Redis Cluster key slots (core/redis_key_slot.h) against the cluster
// specification and against what redis-server 7.0's CLUSTER KEYSLOT answers.
#include "core/redis_key_slot.h"

#include <gtest/gtest.h>

#include <string>

namespace streamshift {
namespace {

TEST(RedisKeySlot, Crc16IsXmodemAsInTheSpecification) {
  EXPECT_EQ(redis_crc16("123456789"), 0x31C3);  // the specification's test vector
  EXPECT_EQ(redis_crc16(""), 0);
  EXPECT_EQ(redis_crc16(std::string_view("\0", 1)), 0);
  EXPECT_EQ(redis_crc16("A"), 0x58E5);  // XMODEM check values, one byte each
  EXPECT_EQ(redis_crc16("\xff"), 0x1EF0);
}

// Slots that a redis-server 7.0.15 started with --cluster-enabled yes
// answered for CLUSTER KEYSLOT (somekey and foo{hash_tag} are also the
// examples of the command's documentation).
TEST(RedisKeySlot, SlotsAreWhatClusterKeyslotAnswers) {
  EXPECT_EQ(redis_key_slot("somekey"), 11058);
  EXPECT_EQ(redis_key_slot("foo{hash_tag}"), 2515);
  EXPECT_EQ(redis_key_slot("foo"), 12182);
  EXPECT_EQ(redis_key_slot("bar"), 5061);
  EXPECT_EQ(redis_key_slot(""), 0);
  EXPECT_EQ(redis_key_slot("events:chat"), 9608);
  EXPECT_EQ(redis_key_slot("{user1000}.following"), 3443);
  EXPECT_EQ(redis_key_slot("foo{}{bar}"), 8363);
  EXPECT_EQ(redis_key_slot("foo{{bar}}zap"), 4015);
  EXPECT_EQ(redis_key_slot("a{b"), 13340);
  EXPECT_EQ(redis_key_slot("a}b{c}"), 7365);
  EXPECT_EQ(redis_key_slot(std::string_view("\xff\0x", 3)), 12540);
}

// The specification's hash tag examples.
TEST(RedisKeySlot, TheHashTagIsBetweenTheFirstBraceAndTheNextClosingOne) {
  EXPECT_EQ(redis_hash_tag("{user1000}.following"), "user1000");
  EXPECT_EQ(redis_hash_tag("foo{}{bar}"), "foo{}{bar}");  // empty tag: the whole key
  EXPECT_EQ(redis_hash_tag("foo{{bar}}zap"), "{bar");
  EXPECT_EQ(redis_hash_tag("foo{bar}{zap}"), "bar");
  EXPECT_EQ(redis_hash_tag("a{b"), "a{b");   // no closing brace
  EXPECT_EQ(redis_hash_tag("a}b{c}"), "c");  // a '}' before the '{' does not count
  EXPECT_EQ(redis_hash_tag("{}"), "{}");
  EXPECT_EQ(redis_hash_tag("{x}"), "x");
  EXPECT_EQ(redis_key_slot("{user1000}.following"), redis_key_slot("{user1000}.followers"));
  EXPECT_EQ(redis_key_slot("{events:chat}:0"), redis_key_slot("events:chat"));
  EXPECT_EQ(redis_key_slot("foo{bar}{zap}"), redis_key_slot("bar"));
}

}  // namespace
}  // namespace streamshift
