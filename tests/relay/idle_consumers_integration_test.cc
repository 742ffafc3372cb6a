// Idle consumer clean-up through the real relay and a real redis-server:
// stale consumers of the group without pending entries are deleted once
// idle beyond STREAMSHIFT_CONSUMER_IDLE_DELETE_MS; one holding a pending
// entry and the relay's own consumer are kept. And the deletion script
// itself, driven through the race it closes.
#include <gtest/gtest.h>

#include <set>

#include "relay/idle_consumers.h"
#include "tests/support/delivery_target.h"
#include "tests/support/eventually.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/stream_entries.h"

namespace streamshift::testing {
namespace {

using std::chrono::seconds;

constexpr const char* kGroup = "signalr-consumers";

std::set<std::string> consumers(const RedisServer& redis, const std::string& stream) {
  std::set<std::string> names;
  RedisValue r = redis.command({"XINFO", "CONSUMERS", stream, kGroup});
  for (const RedisValue& row : r.elements) {
    for (size_t i = 0; i + 1 < row.elements.size(); i += 2)
      if (row.elements[i].str == "name") names.insert(row.elements[i + 1].str);
  }
  return names;
}

// The consumer's `idle` in ms, -1 when it is not in the group.
long long idle_of(const RedisServer& redis, const std::string& stream, const std::string& name) {
  RedisValue r = redis.command({"XINFO", "CONSUMERS", stream, kGroup});
  for (const RedisValue& row : r.elements) {
    long long idle = -1;
    bool found = false;
    for (size_t i = 0; i + 1 < row.elements.size(); i += 2) {
      if (row.elements[i].str == "name") found = row.elements[i + 1].str == name;
      if (row.elements[i].str == "idle") idle = row.elements[i + 1].integer;
    }
    if (found) return idle;
  }
  return -1;
}

// XINFO GROUPS calls so far (the relay's lag refreshes), from INFO commandstats.
long long xinfo_groups_calls(const RedisServer& redis) {
  std::string stats = redis.command({"INFO", "commandstats"}).str;
  const std::string key = "cmdstat_xinfo|groups:calls=";
  size_t at = stats.find(key);
  return at == std::string::npos ? 0 : std::stoll(stats.substr(at + key.size()));
}

TEST(IdleConsumers, TheRelayDeletesIdleConsumersWithoutPendingAndKeepsTheOthers) {
  RedisServer redis;
  DeliveryTarget target;
  ASSERT_EQ(redis.command({"XGROUP", "CREATE", "events:chat", kGroup, "0", "MKSTREAM"}).str, "OK");
  xadd(redis, "ev-1");
  xadd(redis, "ev-2");
  // Pods that are gone: one acked what it read, one never read, one still
  // holds an entry (its pending entry must not be lost with it).
  RedisValue read = redis.command(
      {"XREADGROUP", "GROUP", kGroup, "old-acked", "COUNT", "1", "STREAMS", "events:chat", ">"});
  ASSERT_EQ(read.elements.size(), 1u);
  std::string acked_id = read.elements[0].elements[1].elements[0].elements[0].str;
  redis.command({"XACK", "events:chat", kGroup, acked_id});
  redis.command({"XGROUP", "CREATECONSUMER", "events:chat", kGroup, "old-never-read"});
  redis.command(
      {"XREADGROUP", "GROUP", kGroup, "old-holding", "COUNT", "1", "STREAMS", "events:chat", ">"});
  ASSERT_EQ(consumers(redis, "events:chat"),
            (std::set<std::string>{"old-acked", "old-never-read", "old-holding"}));

  // The relay's own consumer blocks 1 s per read: idle beyond the threshold
  // between reads, and kept all the same.
  RelayProcess relay(redis.url(), target.port(),
                     {{"STREAMSHIFT_STREAMS", "events:chat"},
                      {"STREAMSHIFT_CONSUMER_NAME", "relay-self"},
                      {"STREAMSHIFT_RELAY_BLOCK_MS", "1000"},
                      {"STREAMSHIFT_RELAY_LAG_INTERVAL_MS", "100"},
                      {"STREAMSHIFT_CONSUMER_IDLE_DELETE_MS", "200"}});
  ASSERT_TRUE(relay.ready()) << relay.process().output();
  EXPECT_TRUE(eventually(
      [&] {
        return consumers(redis, "events:chat") ==
               std::set<std::string>{"relay-self", "old-holding"};
      },
      seconds(15)))
      << relay.process().output();
  EXPECT_TRUE(eventually(
      [&] { return relay.metric("streamshift_relay_consumers_deleted_total") == 2; }, seconds(5)));
  EXPECT_TRUE(relay.process().wait_output("idle consumer deleted", seconds(5)));
  // Its own consumer, idle beyond the threshold while its read blocks, stays.
  EXPECT_TRUE(
      eventually([&] { return idle_of(redis, "events:chat", "relay-self") > 600; }, seconds(10)));
  EXPECT_TRUE(consumers(redis, "events:chat").count("relay-self"));
  // Still there a while later, and the relay still delivers.
  xadd(redis, "ev-3");
  EXPECT_TRUE(eventually([&] { return target.delivered().count("ev-3") == 1; }, seconds(10)));
  EXPECT_EQ(consumers(redis, "events:chat"), (std::set<std::string>{"relay-self", "old-holding"}));
  EXPECT_EQ(relay.metric("streamshift_relay_consumers_deleted_total"), 2);
}

// The race: the relay saw "old-pod" with nothing pending (XINFO), then
// another relay's XREADGROUP under that name took an entry before the
// deletion. The script sees the entry and keeps the consumer with it.
TEST(IdleConsumers, TheDeletionScriptKeepsAConsumerThatGainedAPendingEntry) {
  RedisServer redis;
  ASSERT_EQ(redis.command({"XGROUP", "CREATE", "events:chat", kGroup, "0", "MKSTREAM"}).str, "OK");
  redis.command({"XGROUP", "CREATECONSUMER", "events:chat", kGroup, "old-pod"});
  xadd(redis, "ev-1");
  RedisValue read = redis.command(
      {"XREADGROUP", "GROUP", kGroup, "old-pod", "COUNT", "1", "STREAMS", "events:chat", ">"});
  ASSERT_EQ(read.elements.size(), 1u);
  std::string id = read.elements[0].elements[1].elements[0].elements[0].str;

  RedisValue kept =
      redis.command({"EVAL", kDeleteIdleConsumerScript, "1", "events:chat", kGroup, "old-pod"});
  EXPECT_EQ(kept.type, REDIS_REPLY_INTEGER) << kept.str;
  EXPECT_EQ(kept.integer, -1);
  EXPECT_TRUE(consumers(redis, "events:chat").count("old-pod"));
  RedisValue pending =
      redis.command({"XPENDING", "events:chat", kGroup, "-", "+", "10", "old-pod"});
  ASSERT_EQ(pending.elements.size(), 1u);
  EXPECT_EQ(pending.elements[0].elements[0].str, id);

  // Once it holds nothing, the same script deletes it.
  redis.command({"XACK", "events:chat", kGroup, id});
  RedisValue gone =
      redis.command({"EVAL", kDeleteIdleConsumerScript, "1", "events:chat", kGroup, "old-pod"});
  EXPECT_EQ(gone.type, REDIS_REPLY_INTEGER) << gone.str;
  EXPECT_EQ(gone.integer, 0);
  EXPECT_FALSE(consumers(redis, "events:chat").count("old-pod"));
}

TEST(IdleConsumers, ZeroKeepsEveryConsumer) {
  RedisServer redis;
  DeliveryTarget target;
  ASSERT_EQ(redis.command({"XGROUP", "CREATE", "events:chat", kGroup, "0", "MKSTREAM"}).str, "OK");
  redis.command({"XGROUP", "CREATECONSUMER", "events:chat", kGroup, "old-never-read"});
  RelayProcess relay(redis.url(), target.port(),
                     {{"STREAMSHIFT_STREAMS", "events:chat"},
                      {"STREAMSHIFT_CONSUMER_NAME", "relay-self"},
                      {"STREAMSHIFT_RELAY_LAG_INTERVAL_MS", "100"},
                      {"STREAMSHIFT_CONSUMER_IDLE_DELETE_MS", "0"}});
  ASSERT_TRUE(relay.ready()) << relay.process().output();
  // The lag refresh shares the clean-up's interval: let several pass.
  ASSERT_TRUE(eventually([&] { return xinfo_groups_calls(redis) >= 5; }, seconds(10)));
  xadd(redis, "ev-1");
  EXPECT_TRUE(eventually([&] { return target.delivered().count("ev-1") == 1; }, seconds(10)));
  EXPECT_TRUE(consumers(redis, "events:chat").count("old-never-read"));
  EXPECT_EQ(relay.metric("streamshift_relay_consumers_deleted_total"), 0);
}

}  // namespace
}  // namespace streamshift::testing
