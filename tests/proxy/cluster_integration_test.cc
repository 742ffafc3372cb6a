// Issue 18 end to end, the sidecar's side: the real binary on
// REDIS_URL=redis-cluster://<seeds> with EVENT_TRANSPORT_STREAM_SHARDS=12
// and every event to Redis, against a local cluster (RedisClusterSet).
// Tags s0..s11 fall on all three primaries of an evenly split cluster
// (s2 s6 s10 s11 on the first, s3 s7 s8 on the second, the rest on the
// third), so 60 rooms reach every primary. What became of each event is
// read from the load's outcomes and from the shard streams on their owners.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <set>

#include "core/redis_key_slot.h"
#include "tests/support/delivery_target.h"
#include "tests/support/event_load.h"
#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/sharded_streams.h"

namespace streamshift::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kStream = "events:chat";
constexpr int kShards = 12;
constexpr int kRooms = 60;

/// The room EventLoad sent `event_id` (<prefix>-<sender>-<seq>) to.
std::string load_room(const std::string& event_id) {
  const size_t last = event_id.rfind('-'), before = event_id.rfind('-', last - 1);
  const long sender = std::stol(event_id.substr(before + 1, last - before - 1));
  const long seq = std::stol(event_id.substr(last + 1));
  return "room-" + std::to_string((seq + sender) % kRooms);
}

class ClusterEvents : public ::testing::Test {
 protected:
  void start_cluster(ClusterShape shape) {
    cluster_ = std::make_unique<RedisClusterSet>(shape);
    ASSERT_TRUE(cluster_->ready());
  }

  /// The sidecar on `redis_url` (the cluster's seeds by default), 12
  /// shards, every event to Redis, no fallback: a failure is an answer.
  void start_sidecar(std::map<std::string, std::string> env = {}) {
    env.emplace("REDIS_URL", cluster_->seed_url());
    env.emplace("EVENT_TRANSPORT_USE_REDIS_STREAMS", "true");
    env.emplace("EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100");
    env.emplace("EVENT_TRANSPORT_STREAM_SHARDS", std::to_string(kShards));
    env.emplace("EVENT_TRANSPORT_FALLBACK_TO_HTTP", "false");
    // Redirects, a refreshed slot map and (with MIN_REPLICAS) WAIT within
    // one publish, on a loaded 2-core machine.
    env.emplace("EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "2000");
    const auto started = std::chrono::steady_clock::now();
    sidecar_ = std::make_unique<Sidecar>(target_.port(), env);
    ASSERT_TRUE(sidecar_->ready()) << sidecar_->process().output();
    // Every worker has its own cluster client: each must have met every
    // primary, or an event on a worker still reading the map is refused.
    ASSERT_TRUE(sidecar_->wait_redis_connected("events", cluster_->primaries().size()));
    ASSERT_TRUE(wait_accepting(sidecar_->port(), kRooms, seconds(20)))
        << sidecar_->process().output();
    std::cout << "[ measured ] sidecar start -> events for " << kRooms << " rooms accepted in "
              << std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() -
                                                          started)
                     .count()
              << " ms\n";
  }

  void start_load(int rate = 400) {
    load_ = std::make_unique<EventLoad>(
        EventLoadOptions{.port = sidecar_->port(), .rate = rate, .rooms = kRooms});
  }

  /// Waits until `n` more events than now are acknowledged.
  ::testing::AssertionResult more_acked(size_t n, const std::string& what) {
    const size_t target = load_->count(&EventOutcome::acked) + n;
    auto done =
        eventually([&] { return load_->count(&EventOutcome::acked) >= target; }, seconds(30), what);
    if (!done) done << "\n" << sidecar_->process().output();
    return done;
  }

  /// Stops the load; every event it sent must have been answered 202.
  void stop_load_expect_all_acked() {
    load_->stop();
    outcomes_ = load_->outcomes();
    std::vector<std::string> failed;
    for (const EventOutcome& o : outcomes_) {
      if (o.status != 202)
        failed.push_back(o.event_id + ": " + std::to_string(o.status) + " " + o.body);
    }
    std::cout << "[ measured ] " << outcomes_.size() << " events sent, " << failed.size()
              << " not answered 202\n";
    EXPECT_TRUE(failed.empty()) << failed.size()
                                << " events not answered 202: " << first_few(failed);
  }

  /// Every acknowledged event stored exactly once; each room in one shard
  /// stream (the documented one), its events in the order sent.
  /// `repeats_allowed`: an XADD whose answer a failover cut off may have
  /// been stored and sent again; those are counted, not failed.
  ShardContents expect_stored_once_in_order(const std::vector<EventOutcome>& outcomes,
                                            bool repeats_allowed = false) {
    ShardContents c = check_shards(read_shards(*cluster_, kStream, kShards), kShards);
    std::vector<std::string> missing, repeated, split;
    for (const EventOutcome& o : outcomes) {
      if (!o.acked()) continue;
      auto it = c.copies.find(o.event_id);
      if (it == c.copies.end()) missing.push_back(o.event_id);
    }
    for (const auto& [id, n] : c.copies) {
      if (n > 1) repeated.push_back(id + " x" + std::to_string(n));
    }
    for (const auto& [room, streams] : c.streams_of_room) {
      if (streams.size() != 1) split.push_back(room + " in " + std::to_string(streams.size()));
    }
    EXPECT_TRUE(missing.empty()) << missing.size() << " acknowledged events in no shard stream: "
                                 << first_few(missing);
    if (repeats_allowed)
      std::cout << "[ measured ] " << repeated.size() << " events stored more than once\n";
    else
      EXPECT_TRUE(repeated.empty()) << "stored more than once: " << first_few(repeated);
    EXPECT_TRUE(split.empty()) << "rooms in several streams: " << first_few(split);
    EXPECT_TRUE(c.misplaced.empty())
        << "rooms not in their documented shard: " << first_few(c.misplaced);
    EXPECT_TRUE(c.out_of_order.empty()) << "out of order: " << first_few(c.out_of_order);
    return c;
  }

  /// The keys of `logical`'s shards on each live primary (KEYS on each).
  std::map<size_t, std::set<std::string>> shard_keys_by_node() const {
    std::map<size_t, std::set<std::string>> out;
    for (size_t p : cluster_->primaries()) {
      for (const RedisValue& k :
           cluster_->command_on(p, {"KEYS", std::string(kStream) + "*"}).elements)
        out[p].insert(k.str);
    }
    return out;
  }

  std::unique_ptr<RedisClusterSet> cluster_;
  DeliveryTarget target_;
  std::unique_ptr<Sidecar> sidecar_;
  std::unique_ptr<EventLoad> load_;  // last: stops sending before the sidecar goes
  std::vector<EventOutcome> outcomes_;
};

// The inspection API's range script is one EVAL on the stream's key, so
// the cluster client sends it to the shard's own primary: every shard, on
// whichever primary, reads back with its body cut and its whole size.
TEST_F(ClusterEvents, InspectionReadsEachShardOnItsOwnPrimary) {
  start_cluster(ClusterShape{.primaries = 3, .replicas_per_primary = 0});
  std::string body(100000, 'b');
  std::set<size_t> owners;
  for (int k = 0; k < kShards; ++k) {
    std::string stream = shard_stream(kStream, kShards, k);
    size_t owner = cluster_->node_for_slot(redis_key_slot(stream));
    owners.insert(owner);
    cluster_->command_on(owner, {"XADD", stream, "*", "n", std::to_string(k), "body", body});
  }
  ASSERT_EQ(owners.size(), 3u);
  sidecar_ = std::make_unique<Sidecar>(
      target_.port(), std::map<std::string, std::string>{
                          {"REDIS_URL", cluster_->seed_url()},
                          {"STREAMSHIFT_ADMIN_TOKEN", "t0ken"},
                          {"EVENT_TRANSPORT_STREAM_SHARDS", std::to_string(kShards)}});
  ASSERT_TRUE(sidecar_->ready()) << sidecar_->process().output();
  for (int k = 0; k < kShards; ++k) {
    std::string path =
        "/api/v1/events/streams/events%3Achat%3A%7Bs" + std::to_string(k) + "%7D/entries";
    std::optional<ParsedResponse> r;
    // The admin loop's client may still be reading the slot map.
    ASSERT_TRUE(eventually(
        [&] {
          r = TestClient(sidecar_->admin_port())
                  .request(make_request("GET", path, "", "Authorization: Bearer t0ken\r\n"));
          return r && r->status == 200;
        },
        seconds(20)))
        << path << " " << (r ? r->body : "no answer");
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(r->body).get(doc), simdjson::SUCCESS) << r->body;
    simdjson::dom::element e = doc["entries"].at(0);
    EXPECT_EQ(std::string_view(e["fields"]["n"]), std::to_string(k));
    EXPECT_EQ(std::string_view(e["body"]).size(), 4096u);
    EXPECT_EQ(int64_t(e["body_bytes"]), static_cast<int64_t>(body.size()));
    EXPECT_TRUE(bool(e["body_truncated"]));
  }
}

TEST_F(ClusterEvents, SixtyRoomsSpreadOverEveryPrimaryEachRoomInOneStreamInOrder) {
  ASSERT_NO_FATAL_FAILURE(start_cluster({.primaries = 3, .replicas_per_primary = 0}));
  ASSERT_NO_FATAL_FAILURE(start_sidecar());
  start_load();
  ASSERT_TRUE(more_acked(1200, "1200 events acknowledged"));
  stop_load_expect_all_acked();

  ShardContents c = expect_stored_once_in_order(outcomes_);
  EXPECT_EQ(c.streams_of_room.size(), static_cast<size_t>(2 * kRooms)) << "60 rooms and 60 probes";
  // Each primary holds shard streams, only of slots it owns, and no
  // unsharded stream exists.
  std::map<size_t, std::set<std::string>> on = shard_keys_by_node();
  ASSERT_EQ(on.size(), 3u) << "shard streams on " << on.size() << " of 3 primaries";
  size_t total = 0;
  for (const auto& [node, keys] : on) {
    std::string list;
    for (const std::string& k : keys) {
      list += " " + k;
      EXPECT_EQ(cluster_->node_for_slot(slot_of(k)), node) << k;
      EXPECT_NE(k, kStream) << "an unsharded stream with 12 shards";
    }
    std::cout << "[ measured ] node " << node << " holds" << list << "\n";
    total += keys.size();
  }
  EXPECT_EQ(total, static_cast<size_t>(kShards)) << "120 rooms over 12 shards use every shard";
}

// Slots moved while events flow, fallback off: redis-cli --cluster reshard
// (slot 431, shard s10's, among the first primary's lowest 450), then slot
// 6970 (shard s3's) by hand: MIGRATING/IMPORTING, its keys moved (the
// sidecar's next XADD there meets ASK), the slot given to the target (the
// next meets MOVED). No event is refused; INFO on the nodes shows the
// redirects the sidecar followed.
TEST_F(ClusterEvents, SlotsMovedLiveWhileEventsFlowRefuseNothingAndExerciseAskAndMoved) {
  ASSERT_NO_FATAL_FAILURE(start_cluster({.primaries = 3, .replicas_per_primary = 0}));
  ASSERT_NO_FATAL_FAILURE(start_sidecar());
  const uint16_t s10 = slot_of(shard_stream(kStream, kShards, 10));
  const uint16_t s3 = slot_of(shard_stream(kStream, kShards, 3));
  ASSERT_EQ(s10, 431);
  ASSERT_EQ(s3, 6970);
  const std::vector<size_t> p = cluster_->primaries();
  ASSERT_EQ(p.size(), 3u);
  ASSERT_EQ(cluster_->node_for_slot(s10), p[0]);
  ASSERT_EQ(cluster_->node_for_slot(s3), p[1]);
  start_load();
  ASSERT_TRUE(more_acked(200, "200 events acknowledged before resharding"));

  ASSERT_TRUE(cluster_->reshard(p[0], p[1], 450));
  ASSERT_EQ(cluster_->node_for_slot(s10), p[1]);
  ASSERT_TRUE(more_acked(200, "200 events acknowledged after redis-cli's reshard"));

  const long long asking_before =
      info_stat(cluster_->node(p[2]), "commandstats", "cmdstat_asking", "calls");
  ASSERT_TRUE(cluster_->begin_migration(s3, p[1], p[2]));
  ASSERT_TRUE(more_acked(100, "100 events acknowledged while slot 6970 is migrating"));
  ASSERT_TRUE(cluster_->migrate_keys(s3));
  // Rooms of shard s3 now get ASK from the source; the target takes their
  // XADDs after ASKING.
  EXPECT_TRUE(eventually(
      [&] {
        return info_stat(cluster_->node(p[2]), "commandstats", "cmdstat_asking", "calls") >
               asking_before;
      },
      seconds(20), "ASKING on the migration's target"))
      << sidecar_->process().output();
  ASSERT_TRUE(more_acked(100, "100 events acknowledged after the keys moved"));
  ASSERT_TRUE(cluster_->finish_migration(s3));
  ASSERT_TRUE(more_acked(300, "300 events acknowledged after the slot moved"));
  stop_load_expect_all_acked();

  expect_stored_once_in_order(outcomes_);
  const long long ask = info_stat(cluster_->node(p[1]), "errorstats", "errorstat_ASK", "count");
  long long moved = 0;
  for (size_t n : p)
    moved += info_stat(cluster_->node(n), "errorstats", "errorstat_MOVED", "count");
  const long long asking =
      info_stat(cluster_->node(p[2]), "commandstats", "cmdstat_asking", "calls");
  std::cout << "[ measured ] the nodes answered ASK " << ask << " times, MOVED " << moved
            << " times; ASKING on the target " << asking << " times\n";
  EXPECT_GT(ask, 0);
  EXPECT_GT(moved, 0);
  EXPECT_GT(asking, asking_before);
}

// EVENT_TRANSPORT_MIN_REPLICAS=1 under load, fallback off: a primary
// swapped with its replica (CLUSTER FAILOVER), then another SIGKILLed and
// replaced by its replica, which gets the killed node back as its replica.
// An event is answered 202 or 503; every 202 is in the shard streams
// afterwards, and rooms of the killed primary's shards are acknowledged
// again once their new primary has a replica.
TEST_F(ClusterEvents, PrimariesFailedOverUnderLoadLoseNoAcknowledgedEvent) {
  ASSERT_NO_FATAL_FAILURE(start_cluster({.primaries = 3, .replicas_per_primary = 1}));
  ASSERT_NO_FATAL_FAILURE(start_sidecar(
      {{"EVENT_TRANSPORT_MIN_REPLICAS", "1"}, {"STREAMSHIFT_CIRCUIT_OPEN_MS", "500"}}));
  const std::vector<size_t> p = cluster_->primaries();
  ASSERT_EQ(p.size(), 3u);
  start_load();
  ASSERT_TRUE(more_acked(200, "200 events acknowledged before the failovers"));

  ClusterPromotion swapped = cluster_->failover(cluster_->replica_of(p[0]), seconds(30));
  ASSERT_TRUE(swapped);
  ASSERT_TRUE(more_acked(200, "200 events acknowledged after CLUSTER FAILOVER"));

  // The shards on the primary about to be killed: their rooms are refused
  // until its replica, promoted, has a replica of its own again.
  const size_t killed = p[1];
  std::set<int> killed_shards;
  for (int k = 0; k < kShards; ++k) {
    if (cluster_->node_for_slot(slot_of(shard_stream(kStream, kShards, k))) == killed)
      killed_shards.insert(k);
  }
  ASSERT_FALSE(killed_shards.empty());
  cluster_->kill_primary(killed);
  ClusterPromotion promoted = cluster_->wait_for_promotion(seconds(30));
  ASSERT_TRUE(promoted);
  ASSERT_TRUE(cluster_->rejoin());
  const auto rejoined_at = std::chrono::steady_clock::now();
  auto acked_on_promoted = [&](const EventOutcome& o) {
    return o.acked() && o.sent > rejoined_at &&
           killed_shards.count(documented_shard(load_room(o.event_id), kShards)) > 0;
  };
  ASSERT_TRUE(eventually([&] { return load_->count(acked_on_promoted) >= 100; }, seconds(30),
                         "100 events of the killed primary's shards acknowledged after it "
                         "rejoined as the new primary's replica"))
      << sidecar_->process().output();
  load_->stop();
  outcomes_ = load_->outcomes();

  std::map<int, size_t> statuses;
  for (const EventOutcome& o : outcomes_) ++statuses[o.status];
  std::cout << "[ measured ] CLUSTER FAILOVER settled in " << swapped.settled.count()
            << " ms, SIGKILL -> promotion " << promoted.replica_master.count() << " ms; answers:";
  for (const auto& [status, n] : statuses) std::cout << " " << n << "x" << status;
  std::cout << "\n";
  for (const auto& [status, n] : statuses)
    EXPECT_TRUE(status == 202 || status == 503) << n << " events answered " << status;
  expect_stored_once_in_order(outcomes_, /*repeats_allowed=*/true);
}

// Two seeds refuse connections; the third is one node of the cluster. The
// sidecar starts, learns the whole cluster from that node, and writes to
// every primary.
TEST_F(ClusterEvents, StartsAndServesWithOnlyOneSeedReachable) {
  ASSERT_NO_FATAL_FAILURE(start_cluster({.primaries = 3, .replicas_per_primary = 0}));
  const std::string url = cluster_url({free_port(), free_port(), cluster_->node(1).port()});
  ASSERT_NO_FATAL_FAILURE(start_sidecar({{"REDIS_URL", url}}));
  start_load();
  ASSERT_TRUE(more_acked(300, "300 events acknowledged"));
  stop_load_expect_all_acked();
  expect_stored_once_in_order(outcomes_);
  EXPECT_EQ(shard_keys_by_node().size(), 3u) << "shard streams on every primary";
}

}  // namespace
}  // namespace streamshift::testing
