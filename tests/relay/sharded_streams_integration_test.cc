// Sharded streams (EVENT_TRANSPORT_STREAM_SHARDS=4) through the real
// binaries against a real redis-server: the sidecar writes each room into
// exactly one shard stream, in order, over all four; the relay reads every
// shard and delivers each event once, each room in order; the events API
// reports the logical stream as the sum of its shards, the shards inside.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/stream_shards.h"
#include "tests/support/delivery_target.h"
#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"

namespace streamshift::testing {
namespace {

using std::chrono::seconds;

constexpr int kShards = 4;
constexpr int kRooms = 60;
constexpr int kPerRoom = 5;
constexpr const char* kToken = "t0ken-for-shards";

std::string event_id(int room, int seq) {
  return "r" + std::to_string(room) + "-" + std::to_string(seq);
}

class ShardedStreams : public ::testing::Test {
 protected:
  std::map<std::string, std::string> common() {
    return {{"STREAMSHIFT_STREAMS", "events:chat"},
            {"EVENT_TRANSPORT_STREAM_SHARDS", std::to_string(kShards)}};
  }
  std::unique_ptr<Sidecar> start_sidecar() {
    auto env = common();
    env.emplace("REDIS_URL", redis_.url());
    env.emplace("EVENT_TRANSPORT_USE_REDIS_STREAMS", "true");
    env.emplace("EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100");
    env.emplace("EVENT_TRANSPORT_FALLBACK_TO_HTTP", "false");
    env.emplace("EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "2000");
    env.emplace("STREAMSHIFT_ADMIN_TOKEN", kToken);
    env.emplace("STREAMSHIFT_ADMIN_CACHE_MS", "0");
    auto sidecar = std::make_unique<Sidecar>(target_.port(), env);
    EXPECT_TRUE(sidecar->ready()) << sidecar->process().output();
    EXPECT_TRUE(sidecar->wait_redis_connected());
    return sidecar;
  }
  // kPerRoom events for each of kRooms rooms, interleaved across rooms; each
  // answered 202 with the stream of its room's shard.
  void post_all(Sidecar& sidecar) {
    TestClient client(sidecar.port());
    for (int seq = 0; seq < kPerRoom; ++seq) {
      for (int room = 0; room < kRooms; ++room) {
        std::string room_id = "room-" + std::to_string(room);
        std::string body = "{\"event_type\":\"chat_message\",\"room_id\":\"" + room_id +
                           "\",\"event_id\":\"" + event_id(room, seq) + "\"}";
        auto r = client.request(make_request("POST", "/internal/broadcast/chat", body,
                                             "Content-Type: application/json\r\n"));
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 202) << r->body;
        std::string stream =
            shard_stream_name("events:chat", kShards, room_shard(room_id, kShards));
        ASSERT_NE(r->body.find("\"stream\":\"" + stream + "\""), std::string::npos) << r->body;
      }
    }
  }
  std::string shard(int k) { return shard_stream_name("events:chat", kShards, k); }

  RedisServer redis_;
  DeliveryTarget target_;
};

TEST_F(ShardedStreams, EachRoomLandsInOneShardInOrderAndEveryShardIsUsed) {
  ASSERT_TRUE(redis_.ready());
  auto sidecar = start_sidecar();
  post_all(*sidecar);
  std::map<std::string, std::set<int>> shards_of_room;
  std::map<std::string, std::vector<std::string>> order_of_room;
  std::set<int> used;
  size_t total = 0;
  for (int k = 0; k < kShards; ++k) {
    for (const StreamEntryView& e : read_stream(redis_, shard(k))) {
      std::string room(e.field("room_id"));
      shards_of_room[room].insert(k);
      order_of_room[room].push_back(std::string(e.field("event_id")));
      used.insert(k);
      ++total;
    }
  }
  EXPECT_EQ(total, static_cast<size_t>(kRooms * kPerRoom));
  EXPECT_EQ(used.size(), static_cast<size_t>(kShards));
  EXPECT_EQ(redis_.command({"EXISTS", "events:chat"}).integer, 0);  // no unsharded stream
  ASSERT_EQ(shards_of_room.size(), static_cast<size_t>(kRooms));
  for (int room = 0; room < kRooms; ++room) {
    std::string room_id = "room-" + std::to_string(room);
    EXPECT_EQ(shards_of_room[room_id], (std::set<int>{room_shard(room_id, kShards)})) << room_id;
    std::vector<std::string> want;
    for (int seq = 0; seq < kPerRoom; ++seq) want.push_back(event_id(room, seq));
    EXPECT_EQ(order_of_room[room_id], want) << room_id;
  }
}

TEST_F(ShardedStreams, TheRelayDeliversEveryShardOnceInRoomOrderAndTheLagApiSumsShards) {
  ASSERT_TRUE(redis_.ready());
  auto env = common();
  env.emplace("STREAMSHIFT_RELAY_LAG_INTERVAL_MS", "200");
  auto relay = std::make_unique<RelayProcess>(redis_.url(), target_.port(), env);
  ASSERT_TRUE(relay->ready()) << relay->process().output();
  for (int k = 0; k < kShards; ++k) {  // the group on every shard stream
    EXPECT_EQ(redis_.command({"XINFO", "GROUPS", shard(k)}).elements.size(), 1u) << shard(k);
  }
  auto sidecar = start_sidecar();
  post_all(*sidecar);
  size_t want = static_cast<size_t>(kRooms * kPerRoom);
  ASSERT_TRUE(eventually([&] { return target_.delivered_count() == want; }, seconds(30)))
      << target_.delivered_count() << "\n"
      << relay->process().output();
  std::map<std::string, std::vector<Delivery>> deliveries = target_.deliveries();
  for (int room = 0; room < kRooms; ++room) {
    for (int seq = 0; seq < kPerRoom; ++seq) {
      const std::vector<Delivery>& d = deliveries[event_id(room, seq)];
      ASSERT_EQ(d.size(), 1u) << event_id(room, seq);
      if (seq > 0) {
        EXPECT_LE(deliveries[event_id(room, seq - 1)].front().at, d.front().at)
            << event_id(room, seq) << " delivered before its predecessor";
      }
    }
  }
  // Acked on every shard; the lag API reports the logical stream (the sum)
  // and each shard.
  ASSERT_TRUE(eventually(
      [&] {
        TestClient client(sidecar->admin_port());
        auto r =
            client.request(make_request("GET", "/api/v1/events/consumer-lag", "",
                                        std::string("Authorization: Bearer ") + kToken + "\r\n"));
        return r && r->status == 200 &&
               r->body.rfind("{\"streams\":{\"events:chat\":{\"lag\":0,", 0) == 0 &&
               r->body.find("\"total_lag\":0,\"stream_count\":1}") != std::string::npos;
      },
      seconds(10)));
  TestClient client(sidecar->admin_port());
  auto streams =
      client.request(make_request("GET", "/api/v1/events/streams", "",
                                  std::string("Authorization: Bearer ") + kToken + "\r\n"));
  ASSERT_TRUE(streams);
  EXPECT_EQ(streams->status, 200);
  EXPECT_NE(streams->body.find("{\"name\":\"events:chat\",\"length\":" + std::to_string(want) +
                               ",\"groups\":1,\"consumer_group\":\"signalr-consumers\","
                               "\"shards\":[{\"name\":\"events:chat:{s0}\","),
            std::string::npos)
      << streams->body;
  for (int k = 0; k < kShards; ++k) {
    EXPECT_NE(streams->body.find("\"name\":\"" + shard(k) + "\""), std::string::npos) << k;
    RedisValue pending = redis_.command({"XPENDING", shard(k), "signalr-consumers"});
    ASSERT_FALSE(pending.elements.empty());
    EXPECT_EQ(pending.elements[0].integer, 0) << shard(k);
  }
  // The relay's gauges: the logical stream, summed over its shards.
  EXPECT_TRUE(eventually(
      [&] {
        return relay->metric("event_queue_depth{stream=\"events:chat\"}") ==
                   static_cast<double>(want) &&
               relay->metric(
                   "event_consumer_lag{consumer_group=\"signalr-consumers\",stream="
                   "\"events:chat\"}") == 0;
      },
      seconds(10)))
      << relay->metric("event_queue_depth{stream=\"events:chat\"}");
}

}  // namespace
}  // namespace streamshift::testing
