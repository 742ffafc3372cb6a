// The Redis Cluster slot map (core/redis_cluster_slots.h): CLUSTER SLOTS
// replies as redis-server 7.0 writes them, every malformed shape refused with
// its reason, uncovered slots, and MOVED updates.
#include "core/redis_cluster_slots.h"

#include <gtest/gtest.h>

#include <tuple>

#include "core/redis_key_slot.h"
#include "tests/core/resp.h"

namespace streamshift {
namespace {

using resp::array;
using resp::bulk;
using resp::integer;

const RedisHost kAsked{"10.0.0.9", 7009};

std::string node(std::string_view host, int64_t port, std::string_view id) {
  // Redis 7.0: [endpoint, port, id, metadata map (RESP2: a flat array)].
  return array({bulk(host), integer(port), bulk(id), array({})});
}

std::string range(int64_t first, int64_t last, std::vector<std::string> nodes) {
  std::vector<std::string> items = {integer(first), integer(last)};
  items.insert(items.end(), nodes.begin(), nodes.end());
  return array(items);
}

// What `redis-cli --cluster create` with 3 primaries and 3 replicas gives.
std::string three_shards() {
  return array({
      range(0, 5460, {node("127.0.0.1", 30001, "a1"), node("127.0.0.1", 30005, "b5")}),
      range(5461, 10922, {node("127.0.0.1", 30002, "a2"), node("127.0.0.1", 30006, "b6")}),
      range(10923, 16383, {node("127.0.0.1", 30003, "a3"), node("127.0.0.1", 30004, "b4")}),
  });
}

std::optional<RedisClusterSlots> parse(const std::string& bytes, std::string* why) {
  resp::Reply reply = resp::parse(bytes);
  return RedisClusterSlots::parse(reply.get(), kAsked, why);
}

std::string refusal(const std::string& bytes) {
  std::string why;
  std::optional<RedisClusterSlots> map = parse(bytes, &why);
  EXPECT_FALSE(map) << bytes;
  EXPECT_FALSE(why.empty()) << bytes;
  return why;
}

TEST(RedisClusterSlots, EverySlotGoesToItsRangesPrimaryWithItsReplicas) {
  std::string why;
  std::optional<RedisClusterSlots> map = parse(three_shards(), &why);
  ASSERT_TRUE(map) << why;
  ASSERT_EQ(map->shards().size(), 3u);
  EXPECT_EQ(map->uncovered(), std::vector<RedisSlotRange>{});
  EXPECT_EQ(map->uncovered_text(), "");
  for (auto [slot, port, replica] :
       {std::tuple{0, 30001, 30005}, std::tuple{5460, 30001, 30005}, std::tuple{5461, 30002, 30006},
        std::tuple{10922, 30002, 30006}, std::tuple{10923, 30003, 30004},
        std::tuple{16383, 30003, 30004}}) {
    const RedisClusterShard* shard = map->shard_of(static_cast<uint16_t>(slot));
    ASSERT_NE(shard, nullptr) << slot;
    EXPECT_EQ(shard->primary.address, (RedisHost{"127.0.0.1", static_cast<uint16_t>(port)}));
    ASSERT_EQ(shard->replicas.size(), 1u);
    EXPECT_EQ(shard->replicas[0].address.port, replica);
  }
  const RedisClusterShard* foo = map->shard_of(redis_key_slot("foo"));  // 12182
  ASSERT_NE(foo, nullptr);
  EXPECT_EQ(foo->primary.id, "a3");
  EXPECT_EQ(foo->slots, 16384u - 10923u);
  EXPECT_EQ(map->shard_of(16384), nullptr);
}

TEST(RedisClusterSlots, APrimaryWithSeveralRangesIsOneShard) {
  std::string why;
  std::optional<RedisClusterSlots> map =
      parse(array({range(0, 99, {node("10.0.0.1", 7000, "a")}),
                   range(100, 199, {node("10.0.0.2", 7000, "b")}),
                   range(200, 16383, {node("10.0.0.1", 7000, "a")})}),
            &why);
  ASSERT_TRUE(map) << why;
  ASSERT_EQ(map->shards().size(), 2u);
  EXPECT_EQ(map->shard_of(0), map->shard_of(200));
  EXPECT_EQ(map->shard_of(0)->slots, 100u + 16184u);
  EXPECT_EQ(map->shard_of(150)->slots, 100u);
}

TEST(RedisClusterSlots, OlderAndNewerNodeShapesAreRead) {
  std::string why;
  // Redis 3.0: [ip, port] without an id; a metadata map with a hostname (7.0).
  std::optional<RedisClusterSlots> map = parse(
      array(
          {range(0, 16383,
                 {array({bulk("10.0.0.1"), integer(7000)}),
                  array({bulk("10.0.0.2"), integer(7001), bulk("r1"),
                         resp::bulks({"hostname", "replica-1.example"}), bulk("later field")})})}),
      &why);
  ASSERT_TRUE(map) << why;
  const RedisClusterShard* shard = map->shard_of(42);
  ASSERT_NE(shard, nullptr);
  EXPECT_EQ(shard->primary.address, (RedisHost{"10.0.0.1", 7000}));
  EXPECT_EQ(shard->primary.id, "");
  ASSERT_EQ(shard->replicas.size(), 1u);
  EXPECT_EQ(shard->replicas[0].id, "r1");
}

TEST(RedisClusterSlots, ANilOrEmptyEndpointIsTheNodeAsked) {
  std::string why;
  // unknown-endpoint gives nil; a node that does not know its IP gives "".
  std::optional<RedisClusterSlots> map =
      parse(array({range(0, 8191, {array({resp::nil(), integer(7001), bulk("a")})}),
                   range(8192, 16383, {array({bulk(""), integer(7002), bulk("b")})})}),
            &why);
  ASSERT_TRUE(map) << why;
  EXPECT_EQ(map->shard_of(0)->primary.address, (RedisHost{"10.0.0.9", 7001}));
  EXPECT_EQ(map->shard_of(9000)->primary.address, (RedisHost{"10.0.0.9", 7002}));
}

// The bytes redis-server 7.0.15 sent, alone in its cluster (every slot
// added to it, no peer met yet, so it does not know its own IP).
TEST(RedisClusterSlots, ALoneNodesRealReplyGoesToTheNodeAsked) {
  std::string why;
  std::optional<RedisClusterSlots> map = parse(
      "*1\r\n*3\r\n:0\r\n:16383\r\n*4\r\n$0\r\n\r\n:50825\r\n$40\r\n"
      "9f77932efb39e8c2f1991a87883c0b22ac082355\r\n*0\r\n",
      &why);
  ASSERT_TRUE(map) << why;
  ASSERT_EQ(map->shards().size(), 1u);
  EXPECT_EQ(map->shards()[0].primary.address, (RedisHost{"10.0.0.9", 50825}));
  EXPECT_EQ(map->shards()[0].primary.id, "9f77932efb39e8c2f1991a87883c0b22ac082355");
  EXPECT_EQ(map->shards()[0].slots, 16384u);
  EXPECT_EQ(map->uncovered_text(), "");
}

TEST(RedisClusterSlots, UncoveredSlotsAreReportedAsRanges) {
  std::string why;
  std::optional<RedisClusterSlots> map =
      parse(array({range(100, 5460, {node("h", 1, "a")}), range(5462, 16382, {node("h", 2, "b")})}),
            &why);
  ASSERT_TRUE(map) << why;
  EXPECT_EQ(map->uncovered(), (std::vector<RedisSlotRange>{{0, 99}, {5461, 5461}, {16383, 16383}}));
  EXPECT_EQ(map->uncovered_text(), "no primary serves slots 0-99, 5461, 16383");
  EXPECT_EQ(map->shard_of(5461), nullptr);

  // A replica without a usable address is left out; the map stands.
  std::optional<RedisClusterSlots> without_replica = parse(
      array({range(0, 16383, {node("h", 1, "a"), node("h", 0, "forgotten"), node("h", 2, "b")})}),
      &why);
  ASSERT_TRUE(without_replica) << why;
  ASSERT_EQ(without_replica->shard_of(0)->replicas.size(), 1u);
  EXPECT_EQ(without_replica->shard_of(0)->replicas[0].address.port, 2);
  // A node not in a cluster yet: an empty reply, every slot uncovered.
  std::optional<RedisClusterSlots> empty = parse(array({}), &why);
  ASSERT_TRUE(empty) << why;
  EXPECT_TRUE(empty->shards().empty());
  EXPECT_EQ(empty->uncovered_text(), "no primary serves slots 0-16383");
}

TEST(RedisClusterSlots, MalformedRepliesAreRefusedWithTheirReason) {
  const std::string ok = node("h", 1, "a");
  struct Case {
    std::string bytes;
    std::string why;
  };
  const Case cases[] = {
      {resp::error("ERR This instance has cluster support disabled"),
       "CLUSTER SLOTS: the node answered an error: ERR This instance has cluster support "
       "disabled"},
      {resp::status("OK"), "CLUSTER SLOTS: the reply is a status, not an array of slot ranges"},
      {resp::nil_array(), "CLUSTER SLOTS: the reply is nil, not an array of slot ranges"},
      {integer(1), "CLUSTER SLOTS: the reply is an integer, not an array of slot ranges"},
      {array({integer(0)}),
       "CLUSTER SLOTS: range 1: not an array of [start, end, primary, replicas...]"},
      {array({array({integer(0), integer(1)})}),
       "CLUSTER SLOTS: range 1: not an array of [start, end, primary, replicas...]"},
      {array({array({bulk("0"), integer(1), ok})}),
       "CLUSTER SLOTS: range 1: start and end are not integers"},
      {array({array({integer(0), resp::nil(), ok})}),
       "CLUSTER SLOTS: range 1: start and end are not integers"},
      {array({range(0, 16384, {ok})}),
       "CLUSTER SLOTS: range 1: slots 0 to 16384 are not a range within 0-16383"},
      {array({range(-1, 5, {ok})}),
       "CLUSTER SLOTS: range 1: slots -1 to 5 are not a range within 0-16383"},
      {array({range(9, 5, {ok})}),
       "CLUSTER SLOTS: range 1: slots 9 to 5 are not a range within 0-16383"},
      {array({range(0, 10, {ok}), range(10, 20, {node("h", 2, "b")})}),
       "CLUSTER SLOTS: range 2: slot 10 is in an earlier range too"},
      {array({range(0, 10, {ok}), range(0, 10, {ok})}),
       "CLUSTER SLOTS: range 2: slot 0 is in an earlier range too"},
      {array({range(0, 1, {bulk("h")})}),
       "CLUSTER SLOTS: range 1: primary: not an array of [endpoint, port, id, ...]"},
      {array({range(0, 1, {array({bulk("h")})})}),
       "CLUSTER SLOTS: range 1: primary: not an array of [endpoint, port, id, ...]"},
      {array({range(0, 1, {resp::nil_array()})}),
       "CLUSTER SLOTS: range 1: primary: not an array of [endpoint, port, id, ...]"},
      {array({range(0, 1, {array({integer(1), integer(1)})})}),
       "CLUSTER SLOTS: range 1: primary: the endpoint is an integer, not a string or nil"},
      {array({range(0, 1, {array({bulk("h"), bulk("7000")})})}),
       "CLUSTER SLOTS: range 1: primary: the port is a string, not an integer"},
      {array({range(0, 1, {node("h", 0, "a")})}),
       "CLUSTER SLOTS: range 1: primary: the port 0 is not from 1 to 65535"},
      {array({range(0, 1, {node("h", 65536, "a")})}),
       "CLUSTER SLOTS: range 1: primary: the port 65536 is not from 1 to 65535"},
      {array({range(0, 1, {array({bulk("h"), integer(1), integer(5)})})}),
       "CLUSTER SLOTS: range 1: primary: the node id is an integer, not a string"},
      {array({range(0, 1, {node("?", 7000, "a")})}),
       "CLUSTER SLOTS: range 1: primary: the endpoint is '?': the node is to be reached by a "
       "hostname it does not have (cluster-preferred-endpoint-type hostname)"},
      {array({range(0, 1, {node("a b\n", 7000, "a")})}),
       "CLUSTER SLOTS: range 1: primary: the endpoint 'a b?' is not a host name or address"},
  };
  for (const Case& c : cases) EXPECT_EQ(refusal(c.bytes), c.why);
  std::string why;
  EXPECT_FALSE(RedisClusterSlots::parse(nullptr, kAsked, &why));
  EXPECT_EQ(why, "CLUSTER SLOTS: no reply");
}

TEST(RedisClusterSlots, AnErrorTextIsCutAndMadePrintable) {
  std::string why = refusal(resp::error("ERR \x1b[31m" + std::string(300, 'x')));
  EXPECT_EQ(why.find('\x1b'), std::string::npos);
  EXPECT_LT(why.size(), 200u);
  EXPECT_EQ(why.substr(why.size() - 3), "...");
}

TEST(RedisClusterSlots, MovedUpdatesOneSlot) {
  std::string why;
  std::optional<RedisClusterSlots> map = parse(three_shards(), &why);
  ASSERT_TRUE(map) << why;
  // To a known primary: the slot changes shard, the counts follow.
  EXPECT_TRUE(map->move(100, {"127.0.0.1", 30002}));
  EXPECT_EQ(map->shard_of(100)->primary.address.port, 30002);
  EXPECT_EQ(map->shard_of(99)->primary.address.port, 30001);
  EXPECT_EQ(map->shard_of(99)->slots, 5460u);
  EXPECT_EQ(map->shard_of(100)->slots, 5462u + 1u);
  EXPECT_FALSE(map->move(100, {"127.0.0.1", 30002}));  // already there
  EXPECT_EQ(map->shards().size(), 3u);

  // To a primary not in the map: a shard of its own, replicas unknown.
  EXPECT_TRUE(map->move(7, {"10.1.1.1", 30007}));
  ASSERT_EQ(map->shards().size(), 4u);
  EXPECT_EQ(map->shard_of(7)->primary.address, (RedisHost{"10.1.1.1", 30007}));
  EXPECT_TRUE(map->shard_of(7)->replicas.empty());
  EXPECT_EQ(map->shard_of(7)->slots, 1u);

  // An uncovered slot gets its primary; out of range changes nothing.
  std::optional<RedisClusterSlots> sparse = parse(array({range(0, 0, {node("h", 1, "a")})}), &why);
  ASSERT_TRUE(sparse) << why;
  EXPECT_TRUE(sparse->move(5, {"h", 1}));
  EXPECT_EQ(sparse->shard_of(5)->slots, 2u);
  EXPECT_EQ(sparse->uncovered().front(), (RedisSlotRange{1, 4}));
  EXPECT_FALSE(sparse->move(16384, {"h", 1}));
}

TEST(RedisClusterSlots, AShardLeftWithoutSlotsIsReusedSoTheMapStaysBounded) {
  std::string why;
  std::optional<RedisClusterSlots> map = parse(array({range(0, 0, {node("h", 1, "a")})}), &why);
  ASSERT_TRUE(map) << why;
  // Slot 0 moves to a new primary again and again: the emptied shard is reused.
  for (uint16_t port = 2; port < 1000; ++port) ASSERT_TRUE(map->move(0, {"h", port}));
  EXPECT_EQ(map->shards().size(), 1u);
  EXPECT_EQ(map->shard_of(0)->primary.address, (RedisHost{"h", 999}));
  EXPECT_EQ(map->shard_of(0)->primary.id, "");
  EXPECT_TRUE(map->shard_of(0)->replicas.empty());
}

}  // namespace
}  // namespace streamshift
