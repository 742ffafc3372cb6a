// The relay through the real binary, against a real redis-server and an
// HTTP target written in the tests: delivery, retries, take-over after a
// SIGKILL, dead letters, duplicates, per-room order, a lost group, a lost
// pending entry, and draining on SIGTERM. Plus the whole path: sidecar ->
// Redis -> relay -> target.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "tests/support/delivery_target.h"
#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/proc_stats.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/stream_entries.h"
#include "tests/support/test_upstream.h"

namespace streamshift::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kGroup = "signalr-consumers";

long long pending(const RedisServer& redis, const std::string& stream) {
  RedisValue r = redis.command({"XPENDING", stream, kGroup});
  if (r.type != REDIS_REPLY_ARRAY || r.elements.empty()) return -1;
  return r.elements[0].integer;
}

using Target = DeliveryTarget;

class Relay : public ::testing::Test {
 protected:
  std::unique_ptr<RelayProcess> start_relay(std::map<std::string, std::string> env = {}) {
    env.emplace("STREAMSHIFT_STREAMS", "events:chat,events:ticket");
    auto relay = std::make_unique<RelayProcess>(redis_.url(), target_.port(), env);
    EXPECT_TRUE(relay->ready()) << relay->process().output();
    return relay;
  }
  // A sidecar storing every event in this test's Redis, connected to it.
  std::unique_ptr<Sidecar> start_sidecar() {
    auto sidecar = std::make_unique<Sidecar>(target_.port(), sidecar_storing_env(redis_.url()));
    EXPECT_TRUE(sidecar->ready()) << sidecar->process().output();
    EXPECT_TRUE(sidecar->wait_redis_connected());
    return sidecar;
  }
  RedisServer redis_;
  Target target_;
};

TEST_F(Relay, DeliversEveryEntryOnceWithItsBytesAndHeadersThenAcks) {
  auto relay = start_relay();
  ASSERT_TRUE(relay->ready());
  const char kBinary[] = "{\"x\":\"\r\n\0\xff\"}";
  std::string binary_body(kBinary, sizeof kBinary - 1);
  std::set<std::string> ids;
  for (int i = 0; i < 150; ++i) {
    std::string id = "ev-" + std::to_string(i);
    xadd(redis_, id, "room-" + std::to_string(i % 7), i % 3 == 0 ? "events:ticket" : "events:chat",
         i == 42 ? binary_body : "");
    ids.insert(id);
  }
  ASSERT_TRUE(eventually([&] { return target_.delivered_count() == ids.size(); }, seconds(15)))
      << target_.delivered_count() << "\n"
      << relay->process().output();
  for (const auto& [id, count] : target_.delivered()) {
    EXPECT_TRUE(ids.count(id)) << id;
    EXPECT_EQ(count, 1) << id;
  }
  bool found = false;
  for (const ReceivedRequest& r : target_.upstream().requests()) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/internal/broadcast/chat");
    EXPECT_EQ(r.header("X-Event-Transport").value_or(""), "redis_streams");
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/json");
    if (r.header("X-Event-Id") == "ev-42") {
      found = true;
      EXPECT_EQ(r.body, binary_body);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(eventually(
      [&] { return pending(redis_, "events:chat") == 0 && pending(redis_, "events:ticket") == 0; },
      seconds(5)));
  EXPECT_EQ(relay->metric("streamshift_relay_deliveries_total{outcome=\"delivered\"}"), 150);
  EXPECT_EQ(relay->metric("event_delivery_duration_seconds_count{event_type=\"chat_message\","
                          "transport=\"redis_streams\"}"),
            150);
}

TEST_F(Relay, ATargetAnswering503ForAWhileGetsEveryEntryOnceItRecovers) {
  std::atomic<bool> down{true};
  target_.set_policy([&](const ReceivedRequest&) {
    UpstreamReply r;
    if (down) r.status = 503;
    return r;
  });
  auto relay = start_relay({{"STREAMSHIFT_RELAY_RETRY_INITIAL_MS", "20"},
                            {"STREAMSHIFT_RELAY_RETRY_MAX_MS", "200"},
                            {"STREAMSHIFT_MAX_DELIVERIES", "1000"}});
  ASSERT_TRUE(relay->ready());
  for (int i = 0; i < 40; ++i) xadd(redis_, "ev-" + std::to_string(i), "r" + std::to_string(i % 5));
  ASSERT_TRUE(eventually([&] { return target_.arrived() >= 20; }, seconds(10)));
  EXPECT_EQ(target_.delivered_count(), 0u);
  down = false;
  ASSERT_TRUE(eventually([&] { return target_.delivered_count() == 40; }, seconds(15)))
      << relay->process().output();
  EXPECT_TRUE(eventually([&] { return pending(redis_, "events:chat") == 0; }, seconds(5)));
  EXPECT_GT(relay->metric("streamshift_relay_retries_total"), 0);
  EXPECT_EQ(relay->metric("streamshift_relay_dead_lettered_total{reason=\"max_deliveries\"}"), 0);
  EXPECT_EQ(read_stream(redis_, "events:dlq").size(), 0u);
}

TEST_F(Relay, ASecondRelayTakesOverWhatAKilledOneLeftPending) {
  // Slow answers, so the first relay holds entries in flight when killed.
  target_.set_policy([](const ReceivedRequest&) {
    UpstreamReply r;
    r.delay = milliseconds(50);
    return r;
  });
  std::map<std::string, std::string> env = {{"STREAMSHIFT_CLAIM_IDLE_MS", "600"},
                                            {"STREAMSHIFT_RELAY_CONCURRENCY", "4"}};
  env["STREAMSHIFT_CONSUMER_NAME"] = "relay-a";
  auto first = start_relay(env);
  ASSERT_TRUE(first->ready());
  std::set<std::string> ids;
  for (int i = 0; i < 120; ++i) {
    ids.insert("ev-" + std::to_string(i));
    xadd(redis_, "ev-" + std::to_string(i), "r" + std::to_string(i % 12));
  }
  ASSERT_TRUE(eventually([&] { return target_.delivered_count() >= 10; }, seconds(10)));
  first->process().signal(SIGKILL);
  first->process().wait(seconds(5));
  size_t before = target_.delivered_count();
  ASSERT_LT(before, ids.size()) << "the first relay finished before it was killed";
  EXPECT_GT(pending(redis_, "events:chat"), 0);

  env["STREAMSHIFT_CONSUMER_NAME"] = "relay-b";
  auto second = start_relay(env);
  ASSERT_TRUE(second->ready());
  ASSERT_TRUE(eventually(
      [&] {
        std::map<std::string, int> d = target_.delivered();
        return std::all_of(ids.begin(), ids.end(), [&](const auto& id) { return d.count(id); });
      },
      seconds(20)))
      << target_.delivered_count() << "\n"
      << second->process().output();
  EXPECT_TRUE(eventually([&] { return pending(redis_, "events:chat") == 0; }, seconds(10)));
  EXPECT_GT(second->metric("streamshift_relay_claimed_total"), 0);
}

TEST_F(Relay, EntriesWaitingInARelaysOwnQueueAreNotClaimedFromUnderIt) {
  // One room, slow answers: the entries wait in relay-a's queue for several
  // times the claim idle limit, while relay-b sweeps for idle entries.
  target_.set_policy([](const ReceivedRequest&) {
    UpstreamReply r;
    r.delay = milliseconds(100);
    return r;
  });
  std::map<std::string, std::string> env = {{"STREAMSHIFT_CLAIM_IDLE_MS", "300"},
                                            {"STREAMSHIFT_DEDUP_TTL_S", "0"}};
  env["STREAMSHIFT_CONSUMER_NAME"] = "relay-a";
  auto a = start_relay(env);
  ASSERT_TRUE(a->ready());
  for (int i = 0; i < 15; ++i) xadd(redis_, "q-" + std::to_string(i), "one-room");
  ASSERT_TRUE(eventually([&] { return target_.arrived() >= 1; }, seconds(10)));
  env["STREAMSHIFT_CONSUMER_NAME"] = "relay-b";
  auto b = start_relay(env);
  ASSERT_TRUE(eventually([&] { return target_.delivered_count() == 15; }, seconds(15)));
  EXPECT_TRUE(eventually([&] { return pending(redis_, "events:chat") == 0; }, seconds(5)));
  for (const auto& [id, count] : target_.delivered()) EXPECT_EQ(count, 1) << id;
  EXPECT_EQ(b->metric("streamshift_relay_claimed_total"), 0);
  EXPECT_EQ(a->metric("streamshift_relay_claimed_total"), 0);
}

TEST_F(Relay, Permanent4xxAndMalformedEntriesGoToTheDeadLetterStreamAcked) {
  target_.set_policy([](const ReceivedRequest& r) {
    UpstreamReply reply;
    if (r.header("X-Event-Id") == "bad-1") {
      reply.status = 400;
      reply.reason = "Bad Request";
    }
    return reply;
  });
  auto relay = start_relay();
  ASSERT_TRUE(relay->ready());
  xadd(redis_, "good-1");
  std::string bad_id = xadd(redis_, "bad-1");
  std::string v2_id =
      redis_.command({"XADD", "events:chat", "*", "v", "2", "event_id", "v2-1"}).str;
  std::string missing_id =
      redis_.command({"XADD", "events:chat", "*", "v", "1", "event_id", "nobody", "room_id", "r-1"})
          .str;
  std::string injected_id = redis_
                                .command({"XADD",
                                          "events:chat",
                                          "*",
                                          "v",
                                          "1",
                                          "event_id",
                                          "inj",
                                          "event_type",
                                          "t",
                                          "room_id",
                                          "r-9",
                                          "ts_ms",
                                          "1",
                                          "method",
                                          "POST",
                                          "path",
                                          "/x HTTP/1.1\r\nX-Evil: 1\r\n",
                                          "content_type",
                                          "",
                                          "body",
                                          "{}"})
                                .str;
  xadd(redis_, "good-2");

  ASSERT_TRUE(
      eventually([&] { return read_stream(redis_, "events:dlq").size() == 4; }, seconds(10)))
      << relay->process().output();
  ASSERT_TRUE(eventually([&] { return target_.delivered_count() == 2; }, seconds(10)));
  std::map<std::string, StreamEntryView> by_source;
  for (const StreamEntryView& e : read_stream(redis_, "events:dlq"))
    by_source[e.field("dlq_source_id")] = e;
  ASSERT_EQ(by_source.size(), 4u);
  EXPECT_EQ(by_source[bad_id].field("dlq_error"), "HTTP 400");
  EXPECT_EQ(by_source[bad_id].field("dlq_reason"), "permanent_status");
  EXPECT_EQ(by_source[bad_id].field("dlq_deliveries"), "1");
  EXPECT_EQ(by_source[bad_id].field("event_id"), "bad-1");
  EXPECT_EQ(by_source[bad_id].field("body"), "{\"event_id\":\"bad-1\",\"room_id\":\"r-1\"}");
  EXPECT_EQ(by_source[bad_id].field("dlq_source_stream"), "events:chat");
  EXPECT_EQ(by_source[v2_id].field("dlq_error"), "unknown entry version v=2");
  EXPECT_EQ(by_source[v2_id].field("dlq_reason"), "malformed");
  EXPECT_EQ(by_source[v2_id].field("dlq_deliveries"), "0");
  EXPECT_EQ(by_source[missing_id].field("dlq_error"), "missing field event_type");
  EXPECT_EQ(by_source[injected_id].field("dlq_error").rfind("invalid path: ", 0), 0u);
  for (const ReceivedRequest& r : target_.upstream().requests()) EXPECT_FALSE(r.header("X-Evil"));
  EXPECT_TRUE(eventually([&] { return pending(redis_, "events:chat") == 0; }, seconds(5)));
  EXPECT_TRUE(relay->process().running());
  EXPECT_EQ(relay->metric("streamshift_relay_dead_lettered_total{reason=\"malformed\"}"), 3);
  EXPECT_EQ(relay->metric("streamshift_relay_dead_lettered_total{reason=\"permanent_status\"}"), 1);
}

// ts_ms -2^63 overflowed `now - ts_ms` when the entry was delivered: a
// sanitizer build aborted, and since the entry stayed pending, crash-looped.
// Now it is malformed like any entry breaking the contract.
TEST_F(Relay, AnEntryWithTsMsOutOfRangeIsDeadLetteredAndTheRelayKeepsDelivering) {
  auto relay = start_relay();
  ASSERT_TRUE(relay->ready());

  std::string min_id = xadd(redis_, "ts-min", "r-1", "events:chat", "{}", "-9223372036854775808");
  std::string max_id = xadd(redis_, "ts-max", "r-1", "events:chat", "{}", "9223372036854775807");
  xadd(redis_, "after-1");
  ASSERT_TRUE(eventually([&] { return target_.delivered_count() == 1; }, seconds(10)))
      << relay->process().output();
  ASSERT_TRUE(
      eventually([&] { return read_stream(redis_, "events:dlq").size() == 2; }, seconds(10)));
  for (const StreamEntryView& e : read_stream(redis_, "events:dlq")) {
    EXPECT_TRUE(e.field("dlq_source_id") == min_id || e.field("dlq_source_id") == max_id);
    EXPECT_EQ(e.field("dlq_error").rfind("invalid ts_ms: ", 0), 0u) << e.field("dlq_error");
  }
  EXPECT_EQ(target_.delivered().count("after-1"), 1u);
  EXPECT_TRUE(eventually([&] { return pending(redis_, "events:chat") == 0; }, seconds(5)));
  EXPECT_TRUE(relay->process().running()) << relay->process().output();
}

TEST_F(Relay, AfterMaxDeliveriesTheEntryIsDeadLettered) {
  target_.set_policy([](const ReceivedRequest&) {
    UpstreamReply r;
    r.status = 500;
    return r;
  });
  auto relay = start_relay({{"STREAMSHIFT_MAX_DELIVERIES", "3"},
                            {"STREAMSHIFT_RELAY_RETRY_INITIAL_MS", "10"},
                            {"STREAMSHIFT_RELAY_RETRY_MAX_MS", "20"}});
  ASSERT_TRUE(relay->ready());
  std::string id = xadd(redis_, "always-500");
  ASSERT_TRUE(
      eventually([&] { return read_stream(redis_, "events:dlq").size() == 1; }, seconds(10)))
      << relay->process().output();
  StreamEntryView dead = read_stream(redis_, "events:dlq")[0];
  EXPECT_EQ(dead.field("dlq_deliveries"), "3");
  EXPECT_EQ(dead.field("dlq_error"), "HTTP 500 after 3 attempts");
  EXPECT_EQ(dead.field("dlq_reason"), "max_deliveries");
  EXPECT_EQ(dead.field("dlq_source_id"), id);
  EXPECT_EQ(target_.upstream().request_count(), 3u);
  EXPECT_TRUE(eventually([&] { return pending(redis_, "events:chat") == 0; }, seconds(5)));
}

// More fields than Lua can unpack in one call (about 8000 values): the dead
// letter still holds every field, the entry is acked, and it is counted once.
TEST_F(Relay, AnEntryWithThousandsOfFieldsIsDeadLetteredOnce) {
  auto relay = start_relay();
  ASSERT_TRUE(relay->ready());
  std::vector<std::string> args = {"XADD", "events:chat", "*", "v", "1", "event_id", "wide"};
  for (int i = 0; i < 4500; ++i) {  // no path: malformed
    args.push_back("f" + std::to_string(i));
    args.push_back("value-" + std::to_string(i));
  }
  std::string id = redis_.command(args).str;
  ASSERT_FALSE(id.empty());
  xadd(redis_, "after-wide");
  ASSERT_TRUE(
      eventually([&] { return read_stream(redis_, "events:dlq").size() == 1; }, seconds(10)))
      << relay->process().output().substr(0, 4000);
  ASSERT_TRUE(eventually([&] { return pending(redis_, "events:chat") == 0; }, seconds(10)));
  StreamEntryView dead = read_stream(redis_, "events:dlq")[0];
  EXPECT_EQ(dead.field("dlq_source_id"), id);
  EXPECT_NE(dead.field("dlq_error").find("missing field"), std::string::npos);
  EXPECT_EQ(dead.field("f4499"), "value-4499");
  EXPECT_EQ(dead.fields.size(), 2u + 4500u + 7u);
  EXPECT_EQ(target_.delivered()["after-wide"], 1);
  // Counted once: no retry loop behind the single dead letter.
  ASSERT_TRUE(eventually(
      [&] {
        return relay->metric("streamshift_relay_dead_lettered_total{reason=\"malformed\"}") == 1;
      },
      seconds(5)));
  EXPECT_EQ(relay->metric("streamshift_relay_redis_errors_total"), 0);
  EXPECT_EQ(read_stream(redis_, "events:dlq").size(), 1u);
}

// The dead-letter stream cannot be written (a key of another type): the
// entry stays pending, retried, counted as dead-lettered only once written.
TEST_F(Relay, ADeadLetterIsCountedOnceWrittenAndNotBefore) {
  redis_.command({"SET", "events:dlq", "not a stream"});
  auto relay = start_relay();
  ASSERT_TRUE(relay->ready());
  redis_.command({"XADD", "events:chat", "*", "v", "2", "event_id", "unwritable"});
  ASSERT_TRUE(eventually([&] { return relay->metric("streamshift_relay_redis_errors_total") >= 3; },
                         seconds(10)));
  EXPECT_EQ(relay->metric("streamshift_relay_dead_lettered_total{reason=\"malformed\"}"), 0);
  EXPECT_EQ(pending(redis_, "events:chat"), 1);
  redis_.command({"DEL", "events:dlq"});
  ASSERT_TRUE(
      eventually([&] { return read_stream(redis_, "events:dlq").size() == 1; }, seconds(10)));
  ASSERT_TRUE(eventually([&] { return pending(redis_, "events:chat") == 0; }, seconds(10)));
  EXPECT_EQ(relay->metric("streamshift_relay_dead_lettered_total{reason=\"malformed\"}"), 1);
  EXPECT_EQ(read_stream(redis_, "events:dlq").size(), 1u);
}

TEST_F(Relay, ADuplicatedEventIdIsDeliveredOnce) {
  auto relay = start_relay();
  ASSERT_TRUE(relay->ready());
  xadd(redis_, "dup-1");
  xadd(redis_, "dup-1");  // e.g. a timed-out XADD that Redis applied
  xadd(redis_, "other");
  ASSERT_TRUE(eventually([&] { return target_.delivered_count() == 2; }, seconds(10)));
  ASSERT_TRUE(eventually([&] { return pending(redis_, "events:chat") == 0; }, seconds(5)));
  EXPECT_EQ(target_.delivered()["dup-1"], 1);
  EXPECT_EQ(relay->metric("streamshift_relay_duplicates_dropped_total"), 1);
  // The mark is shared in Redis, with the configured TTL.
  RedisValue ttl = redis_.command({"TTL", "streamshift:delivered:dup-1"});
  EXPECT_GT(ttl.integer, 250);
  EXPECT_LE(ttl.integer, 300);
  // A later copy, read by another relay, is dropped too.
  relay.reset();
  auto second = start_relay({{"STREAMSHIFT_CONSUMER_NAME", "relay-b"}});
  xadd(redis_, "dup-1");
  ASSERT_TRUE(
      eventually([&] { return second->metric("streamshift_relay_duplicates_dropped_total") == 1; },
                 seconds(10)));
  EXPECT_EQ(target_.delivered()["dup-1"], 1);
}

TEST_F(Relay, EachRoomInStreamOrderWhileRoomsRunInParallel) {
  std::mutex mu;
  std::map<std::string, std::vector<int>> arrivals;  // accepted deliveries, per room
  std::set<std::string> failed_once;
  target_.set_policy([&](const ReceivedRequest& r) {
    std::string body = r.body;
    size_t room_at = body.find("\"room\":\"") + 8;
    std::string room = body.substr(room_at, body.find('"', room_at) - room_at);
    int seq = std::stoi(body.substr(body.find("\"seq\":") + 6));
    UpstreamReply reply;
    reply.delay = milliseconds(seq % 3);  // uneven service times
    std::lock_guard<std::mutex> lock(mu);
    // Now and then a retryable failure: the retry must not be overtaken.
    if (seq % 7 == 3 && failed_once.insert(r.header("X-Event-Id").value_or("")).second) {
      reply.status = 503;
      return reply;
    }
    arrivals[room].push_back(seq);
    return reply;
  });
  auto relay = start_relay(
      {{"STREAMSHIFT_RELAY_CONCURRENCY", "8"}, {"STREAMSHIFT_RELAY_RETRY_INITIAL_MS", "5"}});
  ASSERT_TRUE(relay->ready());
  const int rooms = 12, per_room = 25;
  for (int seq = 0; seq < per_room; ++seq) {
    for (int room = 0; room < rooms; ++room) {
      std::string name = "room-" + std::to_string(room);
      xadd(redis_, name + "-" + std::to_string(seq), name, "events:chat",
           "{\"room\":\"" + name + "\",\"seq\":" + std::to_string(seq) + "}");
    }
  }
  ASSERT_TRUE(eventually([&] { return target_.delivered_count() == size_t{rooms * per_room}; },
                         seconds(20)))
      << relay->process().output();
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(arrivals.size(), static_cast<size_t>(rooms));
  for (const auto& [room, seqs] : arrivals) {
    ASSERT_EQ(seqs.size(), static_cast<size_t>(per_room)) << room;
    for (int i = 0; i < per_room; ++i) EXPECT_EQ(seqs[i], i) << room;
  }
  EXPECT_GT(target_.max_concurrent(), 1);
  EXPECT_LE(target_.max_concurrent(), 8);
}

// A slow target and a backlog: the relay fills its held budget (2 x
// READ_COUNT + CONCURRENCY = 21 here) and no more; a read never asks for
// more than what is left of it.
TEST_F(Relay, HeldEntriesNeverExceedTheBudget) {
  target_.set_policy([](const ReceivedRequest&) {
    UpstreamReply r;
    r.delay = milliseconds(3000);
    return r;
  });
  for (int i = 0; i < 100; ++i) xadd(redis_, "b-" + std::to_string(i), "r" + std::to_string(i));
  auto relay = start_relay({{"STREAMSHIFT_RELAY_READ_COUNT", "10"},
                            {"STREAMSHIFT_RELAY_CONCURRENCY", "1"},
                            {"STREAMSHIFT_DEDUP_TTL_S", "0"}});
  ASSERT_TRUE(relay->ready());
  double most = 0;
  bool full = eventually(
      [&] {
        most = std::max(most, relay->metric("streamshift_relay_held_entries"));
        return most >= 21;
      },
      seconds(10));
  for (int i = 0; i < 20; ++i) {  // and it stays there while the target is slow
    most = std::max(most, relay->metric("streamshift_relay_held_entries"));
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(full);
  EXPECT_EQ(most, 21);
  EXPECT_EQ(pending(redis_, "events:chat"), 21);  // nothing read beyond it either
}

// One room's target calls fail: with 503 at once, or hanging until the
// relay's delivery timeout. Its entries fill the relay no more than one
// room's share; ten other rooms keep their normal latency; the failing room
// is delivered in stream order, each entry once, when it recovers.
class FailingRoom : public Relay, public ::testing::WithParamInterface<std::string> {
 protected:
  using Clock = std::chrono::steady_clock;
  void SetUp() override {
    bool hang = GetParam() == "hangs";
    target_.set_policy([this, hang](const ReceivedRequest& r) {
      std::string id = r.header("X-Event-Id").value_or("");
      UpstreamReply reply;
      if (id.rfind("bad-", 0) == 0) {
        if (failing_) {
          // Hanging: until the relay gave up on this request long ago.
          for (int i = 0; hang && failing_ && i < 300; ++i)
            std::this_thread::sleep_for(milliseconds(10));
          reply.status = 503;
          return reply;
        }
        std::lock_guard<std::mutex> lock(mu_);
        bad_order_.push_back(std::stoi(id.substr(4)));
        return reply;
      }
      std::lock_guard<std::mutex> lock(mu_);
      delivered_at_[id] = Clock::now();
      return reply;
    });
  }
  std::map<std::string, std::string> relay_env() const {
    return {{"STREAMSHIFT_MAX_DELIVERIES", "1000"},
            {"STREAMSHIFT_RELAY_RETRY_INITIAL_MS", "50"},
            {"STREAMSHIFT_RELAY_RETRY_MAX_MS", "200"},
            {"STREAMSHIFT_RELAY_TIMEOUT_MS", "500"}};
  }
  void add_bad(int from, int to) {
    for (int i = from; i < to; ++i) xadd(redis_, "bad-" + std::to_string(i), "bad");
  }
  // Ten healthy rooms, `per_room` entries each; returns the slowest
  // XADD-to-delivery time once all are delivered (a minute when not).
  milliseconds healthy_rooms_latency(int per_room) {
    std::map<std::string, Clock::time_point> added_at;
    for (int seq = 0; seq < per_room; ++seq) {
      for (int room = 0; room < 10; ++room) {
        std::string id = "ok-" + std::to_string(room) + "-" + std::to_string(seq);
        added_at[id] = Clock::now();
        xadd(redis_, id, "ok-" + std::to_string(room));
      }
    }
    bool all = eventually(
        [&] {
          std::lock_guard<std::mutex> lock(mu_);
          return delivered_at_.size() == added_at.size();
        },
        seconds(20));
    if (!all) return milliseconds(60000);
    std::lock_guard<std::mutex> lock(mu_);
    milliseconds worst(0);
    for (const auto& [id, at] : added_at) {
      worst = std::max(worst, std::chrono::duration_cast<milliseconds>(delivered_at_.at(id) - at));
    }
    return worst;
  }
  // Recovers the room and checks it is delivered in order, each entry once.
  void recover_and_check_order(int entries, RelayProcess& relay) {
    RecordProperty("held_while_failing",
                   static_cast<int>(relay.metric("streamshift_relay_held_entries")));
    RecordProperty("released_while_failing",
                   static_cast<int>(relay.metric("streamshift_relay_released_total")));
    auto recovered_at = Clock::now();
    failing_ = false;
    ASSERT_TRUE(eventually(
        [&] {
          std::lock_guard<std::mutex> lock(mu_);
          return bad_order_.size() >= static_cast<size_t>(entries);
        },
        seconds(60)))
        << relay.process().output().substr(0, 3000);
    RecordProperty(
        "recovery_ms",
        static_cast<int>(
            std::chrono::duration_cast<milliseconds>(Clock::now() - recovered_at).count()));
    EXPECT_TRUE(eventually([&] { return pending(redis_, "events:chat") == 0; }, seconds(10)));
    std::lock_guard<std::mutex> lock(mu_);
    ASSERT_EQ(bad_order_.size(), static_cast<size_t>(entries));
    for (int i = 0; i < entries; ++i) ASSERT_EQ(bad_order_[i], i) << "position " << i;
  }
  // Pending entries per consumer (XPENDING's summary).
  std::map<std::string, long long> pending_by_consumer() {
    std::map<std::string, long long> out;
    RedisValue r = redis_.command({"XPENDING", "events:chat", kGroup});
    if (r.type != REDIS_REPLY_ARRAY || r.elements.size() < 4) return out;
    for (const RedisValue& c : r.elements[3].elements) {
      if (c.elements.size() == 2) out[c.elements[0].str] = std::stoll(c.elements[1].str);
    }
    return out;
  }

  std::atomic<bool> failing_{true};
  std::mutex mu_;
  std::vector<int> bad_order_;
  std::map<std::string, Clock::time_point> delivered_at_;
};

TEST_P(FailingRoom, OtherRoomsKeepTheirLatencyAndItKeepsItsOrder) {
  auto relay = start_relay(relay_env());
  ASSERT_TRUE(relay->ready());
  add_bad(0, 300);
  ASSERT_TRUE(eventually([&] { return target_.arrived() >= 2; }, seconds(10)));
  milliseconds worst = healthy_rooms_latency(10);
  RecordProperty("healthy_worst_latency_ms", static_cast<int>(worst.count()));
  EXPECT_LT(worst, milliseconds(3000)) << relay->process().output().substr(0, 3000);
  // Every entry of the failing room read, pending under this relay; few in memory.
  EXPECT_TRUE(eventually([&] { return pending(redis_, "events:chat") == 300; }, seconds(10)));
  EXPECT_LE(relay->metric("streamshift_relay_held_entries"), 16);
  EXPECT_GT(relay->metric("streamshift_relay_released_total"), 0);
  recover_and_check_order(300, *relay);
}

// The failing room's entries set aside (pending under relay-a, not in its
// memory) are not taken over by relay-b while relay-a is alive: relay-a
// keeps their idle time low, so the room is never delivered by two relays.
TEST_P(FailingRoom, EntriesSetAsideAreNotTakenOverByAnotherRelay) {
  std::map<std::string, std::string> env = relay_env();
  env["STREAMSHIFT_CLAIM_IDLE_MS"] = "900";
  env["STREAMSHIFT_CONSUMER_NAME"] = "relay-a";
  auto a = start_relay(env);
  ASSERT_TRUE(a->ready());
  add_bad(0, 400);
  ASSERT_TRUE(eventually([&] { return pending_by_consumer()["relay-a"] == 400; }, seconds(10)))
      << pending(redis_, "events:chat");
  env["STREAMSHIFT_CONSUMER_NAME"] = "relay-b";
  auto b = start_relay(env);
  ASSERT_TRUE(b->ready());
  // Several claim periods of relay-b (every 450 ms for entries idle 900 ms):
  // all 400 stay pending under relay-a, none moves to relay-b.
  std::map<std::string, long long> by;
  ASSERT_FALSE(eventually(
      [&] {
        by = pending_by_consumer();
        return by["relay-a"] != 400 || by.count("relay-b") != 0;
      },
      milliseconds(3000), "an entry pending under relay-a moved"))
      << "pending under relay-a: " << by["relay-a"] << ", under relay-b: " << by["relay-b"];
  EXPECT_EQ(b->metric("streamshift_relay_claimed_total"), 0);
  EXPECT_LE(a->metric("streamshift_relay_held_entries"), 16);
  recover_and_check_order(400, *a);
}

// Killed while its failing room waits in Redis, the relay starts again
// from its own pending list: still one room's share in memory, same order.
TEST_P(FailingRoom, AfterARestartTheRoomKeepsItsOrder) {
  std::map<std::string, std::string> env = relay_env();
  env["STREAMSHIFT_CONSUMER_NAME"] = "relay-a";
  auto first = start_relay(env);
  ASSERT_TRUE(first->ready());
  add_bad(0, 300);
  ASSERT_TRUE(eventually([&] { return pending_by_consumer()["relay-a"] == 300; }, seconds(10)));
  first->process().signal(SIGKILL);
  first->process().wait(seconds(5));
  int arrived = target_.arrived();
  auto again = start_relay(env);
  ASSERT_TRUE(again->ready());
  ASSERT_TRUE(eventually([&] { return target_.arrived() >= arrived + 2; }, seconds(10)));
  EXPECT_LE(again->metric("streamshift_relay_held_entries"), 16);
  EXPECT_GT(again->metric("streamshift_relay_released_total"), 0);
  EXPECT_LT(healthy_rooms_latency(5), milliseconds(3000));
  recover_and_check_order(300, *again);
}

INSTANTIATE_TEST_SUITE_P(Relay, FailingRoom, ::testing::Values("fails", "hangs"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST_F(Relay, AGroupDeletedBehindItsBackIsCreatedAgain) {
  auto relay = start_relay({{"STREAMSHIFT_RELAY_BLOCK_MS", "200"}});
  ASSERT_TRUE(relay->ready());
  xadd(redis_, "before");
  ASSERT_TRUE(eventually([&] { return target_.delivered_count() == 1; }, seconds(10)));
  // As after a Redis restart without persistence: the group is gone.
  ASSERT_EQ(redis_.command({"XGROUP", "DESTROY", "events:chat", kGroup}).integer, 1);
  xadd(redis_, "after-1");
  xadd(redis_, "after-2");
  ASSERT_TRUE(eventually([&] { return target_.delivered_count() == 3; }, seconds(10)))
      << relay->process().output();
  // Recreated from 0: "before" was read again, and dropped as delivered.
  EXPECT_EQ(target_.delivered()["before"], 1);
  EXPECT_TRUE(eventually([&] { return pending(redis_, "events:chat") == 0; }, seconds(5)));
  EXPECT_GE(relay->metric("streamshift_relay_groups_created_total"), 3);
  EXPECT_NE(relay->process().output().find("consumer group missing"), std::string::npos);
  // One recreation, not an error loop.
  std::string out = relay->process().output();
  size_t recreations = 0;
  for (size_t at = out.find("consumer group missing"); at != std::string::npos;
       at = out.find("consumer group missing", at + 1))
    ++recreations;
  EXPECT_LE(recreations, 3u);
}

TEST_F(Relay, PendingEntriesTrimmedAwayAreCountedAsLost) {
  target_.set_policy([](const ReceivedRequest&) {
    UpstreamReply r;
    r.delay = milliseconds(2000);
    return r;
  });
  auto first = start_relay(
      {{"STREAMSHIFT_CONSUMER_NAME", "relay-a"}, {"STREAMSHIFT_RELAY_CONCURRENCY", "1"}});
  ASSERT_TRUE(first->ready());
  for (int i = 0; i < 5; ++i) xadd(redis_, "t-" + std::to_string(i));
  ASSERT_TRUE(eventually([&] { return pending(redis_, "events:chat") == 5; }, seconds(10)));
  first->process().signal(SIGKILL);
  first->process().wait(seconds(5));
  // Trimmed while pending: the entries are gone, their ids still pending.
  redis_.command({"XTRIM", "events:chat", "MAXLEN", "0"});
  target_.set_policy(nullptr);
  auto second =
      start_relay({{"STREAMSHIFT_CONSUMER_NAME", "relay-b"}, {"STREAMSHIFT_CLAIM_IDLE_MS", "200"}});
  ASSERT_TRUE(second->ready());
  ASSERT_TRUE(eventually(
      [&] { return second->metric("streamshift_relay_lost_total{reason=\"trimmed\"}") == 5; },
      seconds(10)))
      << second->process().output();
  EXPECT_NE(second->process().output().find("trimmed before delivery: lost"), std::string::npos);
  EXPECT_EQ(pending(redis_, "events:chat"), 0);
}

TEST_F(Relay, SigtermFinishesDeliveriesInFlightAndLeavesTheRestPending) {
  target_.set_policy([](const ReceivedRequest&) {
    UpstreamReply r;
    r.delay = milliseconds(700);
    return r;
  });
  auto relay = start_relay(
      {{"STREAMSHIFT_CONSUMER_NAME", "relay-a"}, {"STREAMSHIFT_RELAY_CONCURRENCY", "2"}});
  ASSERT_TRUE(relay->ready());
  for (int i = 0; i < 6; ++i) xadd(redis_, "d-" + std::to_string(i), "r" + std::to_string(i));
  ASSERT_TRUE(eventually([&] { return target_.arrived() == 2; }, seconds(10)));
  // All six read (pending for this consumer) before the signal, however
  // slowly the machine runs.
  ASSERT_TRUE(eventually([&] { return pending(redis_, "events:chat") == 6; }, seconds(10)));
  EXPECT_EQ(target_.delivered_count(), 0u);  // both still in flight
  relay->process().signal(SIGTERM);
  EXPECT_EQ(relay->process().wait(seconds(10)), 0) << relay->process().output();
  // The two in flight were delivered and acked; the four others were never
  // sent and stay pending under this consumer.
  EXPECT_EQ(target_.delivered_count(), 2u);
  EXPECT_EQ(pending(redis_, "events:chat"), 4);

  // The same consumer starting again delivers its own pending entries first.
  target_.set_policy(nullptr);
  auto again = start_relay({{"STREAMSHIFT_CONSUMER_NAME", "relay-a"}});
  ASSERT_TRUE(eventually([&] { return target_.delivered_count() == 6; }, seconds(10)))
      << again->process().output();
  EXPECT_TRUE(eventually([&] { return pending(redis_, "events:chat") == 0; }, seconds(5)));
}

// Redis stopped (SIGSTOP: connections open, nothing answers) with a
// delivered entry's ack, the blocking read and a lag look-up waiting for
// replies, and another delivery hanging at the target: the drain timeout
// bounds the whole shutdown.
TEST_F(Relay, DrainTimeoutBoundsTheWaitForAStoppedRedis) {
  std::atomic<bool> stop_redis{false};
  target_.set_policy([&](const ReceivedRequest& r) {
    UpstreamReply reply;
    if (r.header("X-Event-Id") == "hangs") {
      reply.delay = milliseconds(6000);
    } else if (!stop_redis.exchange(true)) {
      redis_.pause();  // before the 2xx: its ack will hang
    }
    return reply;
  });
  auto relay = start_relay({{"STREAMSHIFT_DRAIN_TIMEOUT_MS", "2000"},
                            {"STREAMSHIFT_RELAY_LAG_INTERVAL_MS", "100"},
                            {"STREAMSHIFT_RELAY_REDIS_TIMEOUT_MS", "10000"}});
  ASSERT_TRUE(relay->ready());
  xadd(redis_, "hangs", "r-1");
  ASSERT_TRUE(eventually([&] { return target_.arrived() == 1; }, seconds(10)));
  xadd(redis_, "stuck-ack", "r-2");
  ASSERT_TRUE(eventually([&] { return target_.delivered_count() == 1; }, seconds(10)));
  // Redis is stopped: what the relay sends it (the ack, a round of lag
  // look-ups every 100 ms) piles up unread. Wait for three more writes.
  size_t unread = unread_bytes(redis_.port());
  int writes = 0;
  ASSERT_TRUE(eventually(
      [&] {
        size_t now = unread_bytes(redis_.port());
        writes += now > unread ? 1 : 0;
        unread = now;
        return writes >= 3;
      },
      seconds(10), "three more writes to the stopped Redis"));
  auto started = std::chrono::steady_clock::now();
  relay->process().signal(SIGTERM);
  int code = relay->process().wait(seconds(30));
  auto took = std::chrono::steady_clock::now() - started;
  redis_.resume();
  EXPECT_EQ(code, 0) << relay->process().output();
  RecordProperty("shutdown_ms",
                 static_cast<int>(std::chrono::duration_cast<milliseconds>(took).count()));
  EXPECT_LT(took, milliseconds(2000 + 1500))
      << std::chrono::duration_cast<milliseconds>(took).count() << " ms";
}

TEST_F(Relay, TheWholePathSidecarRedisRelayTarget) {
  auto relay = start_relay();
  ASSERT_TRUE(relay->ready());
  auto sidecar = start_sidecar();
  ASSERT_TRUE(sidecar->ready());
  std::string body =
      "{\"event_type\":\"chat_message\",\"room_id\":\"r-7\",\"event_id\":\"e2e-1\",\"text\":"
      "\"hi\"}";
  TestClient client(sidecar->port());
  auto r = client.request(
      make_request("POST", "/internal/broadcast/chat", body, "Content-Type: application/json\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  ASSERT_TRUE(eventually([&] { return target_.delivered_count() == 1; }, seconds(10)))
      << relay->process().output();
  ReceivedRequest delivered = target_.upstream().requests().back();
  EXPECT_EQ(delivered.body, body);
  EXPECT_EQ(delivered.target, "/internal/broadcast/chat");
  EXPECT_EQ(delivered.header("X-Event-Id").value_or(""), "e2e-1");
  EXPECT_EQ(delivered.header("X-Event-Transport").value_or(""), "redis_streams");
}

// The sidecar and the relay share one check: what the sidecar stores, the
// relay delivers (a Content-Type with a tab inside, legal HTTP, used to be
// stored and then dead-lettered), and what the relay would refuse the
// sidecar answers 400 without storing.
TEST_F(Relay, WhatTheSidecarStoresTheRelayDelivers) {
  auto relay = start_relay();
  ASSERT_TRUE(relay->ready());
  auto sidecar = start_sidecar();
  ASSERT_TRUE(sidecar->ready());
  TestClient client(sidecar->port());
  auto refused = client.request(make_request(
      "POST", "/internal/broadcast/chat", R"({"event_type":"chat_message","room_id":"r-7"})",
      "Content-Type: application/json\r\nX-Event-Id: tab\there\r\n"));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400) << refused->body;
  std::string body = R"({"event_type":"chat_message","room_id":"r-7","event_id":"tab-ct"})";
  auto stored = client.request(make_request("POST", "/internal/broadcast/chat", body,
                                            "Content-Type: application/json;\tcharset=utf-8\r\n"));
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->status, 202) << stored->body;
  ASSERT_TRUE(eventually([&] { return target_.delivered_count() == 1; }, seconds(10)))
      << relay->process().output();
  ReceivedRequest delivered = target_.upstream().requests().back();
  EXPECT_EQ(delivered.header("X-Event-Id").value_or(""), "tab-ct");
  EXPECT_EQ(delivered.header("Content-Type").value_or(""), "application/json;\tcharset=utf-8");
  EXPECT_EQ(delivered.body, body);
  EXPECT_TRUE(eventually([&] { return pending(redis_, "events:chat") == 0; }, seconds(5)));
  EXPECT_EQ(read_stream(redis_, "events:dlq").size(), 0u);
  EXPECT_EQ(redis_.command({"XLEN", "events:chat"}).integer, 1);
}

}  // namespace
}  // namespace streamshift::testing
