// Issue 18 end to end, the relay's side: the sidecar and `streamshift
// relay` on REDIS_URL=redis-cluster://<seeds> with
// EVENT_TRANSPORT_STREAM_SHARDS=12, a local cluster of three primaries
// (RedisClusterSet), 60 rooms spread over every primary, and a recording
// target. The relay reads every shard stream on its owner and delivers each
// event once, each room's events in their stream order, also while slots
// move under it.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <set>

#include "tests/support/delivery_target.h"
#include "tests/support/event_load.h"
#include "tests/support/eventually.h"
#include "tests/support/process.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/sharded_streams.h"

namespace streamshift::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kStream = "events:chat";
constexpr const char* kGroup = "signalr-consumers";
constexpr int kShards = 12;
constexpr int kRooms = 60;

class RelayCluster : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(cluster_.ready()); }

  /// The relay first (its groups exist before the first entry), then the
  /// sidecar; both on the cluster's seeds with 12 shards.
  void start_relay_and_sidecar() {
    const std::map<std::string, std::string> shards = {
        {"EVENT_TRANSPORT_STREAM_SHARDS", std::to_string(kShards)}};
    std::map<std::string, std::string> relay_env = shards;
    relay_env.emplace("STREAMSHIFT_STREAMS", kStream);
    relay_ = std::make_unique<RelayProcess>(cluster_.seed_url(), target_.port(), relay_env);
    ASSERT_TRUE(relay_->ready()) << relay_->process().output();
    std::map<std::string, std::string> env = shards;
    env.insert({{"REDIS_URL", cluster_.seed_url()},
                {"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"},
                {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"},
                {"EVENT_TRANSPORT_FALLBACK_TO_HTTP", "false"},
                {"EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "2000"}});
    sidecar_ = std::make_unique<Sidecar>(target_.port(), env);
    ASSERT_TRUE(sidecar_->ready()) << sidecar_->process().output();
    ASSERT_TRUE(wait_accepting(sidecar_->port(), kRooms, seconds(20)))
        << sidecar_->process().output();
    load_ = std::make_unique<EventLoad>(
        EventLoadOptions{.port = sidecar_->port(), .rate = 400, .rooms = kRooms});
  }

  ::testing::AssertionResult more_acked(size_t n, const std::string& what) {
    const size_t target = load_->count(&EventOutcome::acked) + n;
    return eventually([&] { return load_->count(&EventOutcome::acked) >= target; }, seconds(30),
                      what);
  }

  /// Stops the load, then waits until every entry of every shard stream
  /// (the probes' too) reached the target; returns the streams' entries.
  ShardEntries stop_and_wait_delivered() {
    load_->stop();
    size_t refused = load_->count([](const EventOutcome& o) { return !o.acked(); });
    EXPECT_EQ(refused, 0u) << "events not acknowledged";
    ShardEntries entries = read_shards(cluster_, kStream, kShards);
    std::vector<std::string> missing;
    auto all = eventually(
        [&] {
          std::map<std::string, int> got = target_.delivered();
          missing.clear();
          for (const auto& [stream, list] : entries) {
            for (const StreamEntryView& e : list) {
              if (got.count(e.field("event_id")) == 0) missing.push_back(e.field("event_id"));
            }
          }
          return missing.empty();
        },
        seconds(30), "every stored event delivered");
    EXPECT_TRUE(all) << missing.size() << " missing: " << first_few(missing) << "\n"
                     << relay_->process().output();
    return entries;
  }

  /// Each room's events reached the target in their stream order: the
  /// relay delivers a room's next event only once the previous one was
  /// answered.
  void expect_room_order(const ShardEntries& entries) {
    std::map<std::string, std::vector<Delivery>> got = target_.deliveries();
    std::vector<std::string> out_of_order;
    for (const auto& [stream, list] : entries) {
      std::map<std::string, std::pair<std::chrono::steady_clock::time_point, std::string>> last;
      for (const StreamEntryView& e : list) {
        auto it = got.find(e.field("event_id"));
        if (it == got.end()) continue;  // reported as missing
        auto at = it->second.front().at;
        auto [prev, first] = last.try_emplace(e.field("room_id"), at, e.field("event_id"));
        if (!first && at <= prev->second.first)
          out_of_order.push_back(e.field("room_id") + ": " + e.field("event_id") +
                                 " delivered before " + prev->second.second);
        prev->second = {at, e.field("event_id")};
      }
    }
    EXPECT_TRUE(out_of_order.empty())
        << out_of_order.size() << " out of order: " << first_few(out_of_order);
  }

  /// Entries pending in the group, over every shard stream.
  long long pending() const {
    long long n = 0;
    for (int k = 0; k < kShards; ++k) {
      const std::string stream = shard_stream(kStream, kShards, k);
      size_t owner = cluster_.node_for_slot(slot_of(stream));
      RedisValue r = cluster_.command_on(owner, {"XPENDING", stream, kGroup});
      if (r.type != REDIS_REPLY_ARRAY || r.elements.empty()) return -1;
      n += r.elements[0].integer;
    }
    return n;
  }

  RedisClusterSet cluster_{ClusterShape{.primaries = 3, .replicas_per_primary = 0}};
  DeliveryTarget target_;
  std::unique_ptr<RelayProcess> relay_;
  std::unique_ptr<Sidecar> sidecar_;
  std::unique_ptr<EventLoad> load_;  // last: stops sending before the sidecar goes
};

TEST_F(RelayCluster, DeliversEveryEventOfEveryShardOnceInRoomOrder) {
  ASSERT_NO_FATAL_FAILURE(start_relay_and_sidecar());
  ASSERT_TRUE(more_acked(1200, "1200 events acknowledged"));
  ShardEntries entries = stop_and_wait_delivered();

  size_t stored = 0;
  for (const auto& [stream, list] : entries) stored += list.size();
  std::vector<std::string> repeated;
  for (const auto& [id, n] : target_.delivered()) {
    if (n != 1) repeated.push_back(id + " x" + std::to_string(n));
  }
  std::cout << "[ measured ] " << stored << " entries in " << entries.size()
            << " shard streams delivered\n";
  EXPECT_EQ(entries.size(), static_cast<size_t>(kShards));
  EXPECT_EQ(target_.delivered_count(), stored);
  EXPECT_TRUE(repeated.empty()) << "delivered more than once: " << first_few(repeated);
  expect_room_order(entries);
  EXPECT_TRUE(eventually([&] { return pending() == 0; }, seconds(10), "nothing pending"));
  EXPECT_EQ(relay_->metric("streamshift_relay_deliveries_total{outcome=\"delivered\"}"),
            static_cast<double>(stored));
}

// redis-cli's reshard (shard s10's slot among them), then shard s3's slot
// moved by hand, while events flow: the relay's blocking reads and acks
// follow the streams to their new owners and every event still arrives,
// rooms in order.
TEST_F(RelayCluster, FollowsShardStreamsToTheirNewOwnersWhileSlotsMove) {
  const std::vector<size_t> p = cluster_.primaries();
  ASSERT_EQ(p.size(), 3u);
  ASSERT_NO_FATAL_FAILURE(start_relay_and_sidecar());
  ASSERT_TRUE(more_acked(200, "200 events acknowledged before resharding"));
  ASSERT_TRUE(cluster_.reshard(p[0], p[1], 450));
  ASSERT_TRUE(more_acked(200, "200 events acknowledged after the reshard"));
  const uint16_t s3 = slot_of(shard_stream(kStream, kShards, 3));
  ASSERT_EQ(cluster_.node_for_slot(s3), p[1]);
  ASSERT_TRUE(cluster_.begin_migration(s3, p[1], p[2]));
  ASSERT_TRUE(more_acked(100, "100 events acknowledged while the slot migrates"));
  ASSERT_TRUE(cluster_.finish_migration(s3));
  ASSERT_TRUE(more_acked(300, "300 events acknowledged after the slot moved"));
  ShardEntries entries = stop_and_wait_delivered();

  size_t twice = 0;
  for (const auto& [id, n] : target_.delivered()) twice += n > 1 ? 1 : 0;
  std::cout << "[ measured ] " << target_.delivered_count() << " events delivered, " << twice
            << " more than once, across the slot moves\n";
  expect_room_order(entries);
  EXPECT_TRUE(eventually([&] { return pending() == 0; }, seconds(15), "nothing pending"))
      << relay_->process().output();
}

}  // namespace
}  // namespace streamshift::testing
