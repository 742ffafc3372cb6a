// STREAMSHIFT_RELAY_ORDERING through the real binary, a real redis-server
// and a slow HTTP target (200 ms a call): with `room` one room's events
// arrive one at a time in stream order; with `none` they are in flight
// together. A bad value stops the start; the variable is not runtime-capable.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <utility>
#include <vector>

#include "tests/support/delivery_target.h"
#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/stream_entries.h"

namespace streamshift::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kEvents = 8;
constexpr milliseconds kCall{200};

class RelayOrdering : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.ready());
    target_.set_policy([](const ReceivedRequest&) {
      UpstreamReply reply;
      reply.delay = kCall;
      return reply;
    });
    // Stored before the relay starts: its first read takes them all.
    for (int i = 0; i < kEvents; ++i) xadd(redis_, "ev-" + std::to_string(i), "room-1");
  }

  std::unique_ptr<RelayProcess> start_relay(const char* ordering,
                                            std::map<std::string, std::string> env = {}) {
    env.emplace("STREAMSHIFT_STREAMS", "events:chat");
    env.emplace("STREAMSHIFT_RELAY_ORDERING", ordering);
    auto relay = std::make_unique<RelayProcess>(redis_.url(), target_.port(), env);
    EXPECT_TRUE(relay->ready()) << relay->process().output();
    return relay;
  }

  void await_all(RelayProcess& relay) {
    ASSERT_TRUE(
        eventually([&] { return target_.delivered_count() == size_t{kEvents}; }, seconds(30)))
        << target_.delivered_count() << "\n"
        << relay.process().output();
    ASSERT_TRUE(eventually([&] { return pending(redis_, "events:chat") == 0; }, seconds(10)));
  }

  // The events' numbers in the order the target took them, and the time
  // from the first arrival to the last.
  std::pair<std::vector<int>, milliseconds> arrivals() const {
    std::vector<std::pair<std::chrono::steady_clock::time_point, int>> at;
    for (const auto& [id, list] : target_.deliveries()) {
      EXPECT_EQ(list.size(), 1u) << id << " delivered more than once";
      for (const Delivery& d : list) at.emplace_back(d.at, std::stoi(id.substr(3)));
    }
    std::sort(at.begin(), at.end());
    std::vector<int> order;
    for (const auto& a : at) order.push_back(a.second);
    auto span = std::chrono::duration_cast<milliseconds>(at.back().first - at.front().first);
    return {order, span};
  }

  static long long pending(const RedisServer& redis, const std::string& stream) {
    RedisValue r = redis.command({"XPENDING", stream, "signalr-consumers"});
    if (r.type != REDIS_REPLY_ARRAY || r.elements.empty()) return -1;
    return r.elements[0].integer;
  }

  // ev-0's first attempt is answered 503 and retried after 0.5-1 s; every
  // other call is answered 200 after 20 ms.
  std::unique_ptr<RelayProcess> start_relay_failing_ev0_once(const char* ordering) {
    target_.set_policy([this](const ReceivedRequest& r) {
      UpstreamReply reply;
      if (r.header("X-Event-Id") == "ev-0" && !failed_once_.exchange(true))
        reply.status = 503;
      else
        reply.delay = milliseconds(20);
      return reply;
    });
    return start_relay(ordering, {{"STREAMSHIFT_RELAY_RETRY_INITIAL_MS", "1000"},
                                  {"STREAMSHIFT_RELAY_RETRY_MAX_MS", "1000"}});
  }

  RedisServer redis_;
  DeliveryTarget target_;
  std::atomic<bool> failed_once_{false};
};

TEST_F(RelayOrdering, RoomDeliversOneRoomOneCallAtATimeInStreamOrder) {
  auto relay = start_relay("room");
  ASSERT_TRUE(relay->ready());
  await_all(*relay);
  EXPECT_EQ(target_.max_concurrent(), 1);
  auto [order, span] = arrivals();
  std::vector<int> expected(kEvents);
  for (int i = 0; i < kEvents; ++i) expected[i] = i;
  EXPECT_EQ(order, expected);
  EXPECT_GE(span, kCall * (kEvents - 1)) << "each call waited for the previous one";
}

TEST_F(RelayOrdering, NoneDeliversOneRoomsEventsInParallel) {
  auto relay = start_relay("none");
  ASSERT_TRUE(relay->ready());
  await_all(*relay);
  EXPECT_GE(target_.max_concurrent(), 2);
  auto [order, span] = arrivals();
  ASSERT_EQ(order.size(), size_t{kEvents});
  // In one room's order each call waits for the one before: (kEvents - 1)
  // calls between the first arrival and the last at least.
  EXPECT_LT(span, kCall * (kEvents - 1)) << "max concurrent " << target_.max_concurrent();
}

// The per-room memory cap (16 entries) does not cap a hot room's
// deliveries with `none`: they fill the CONCURRENCY slots, and nothing is
// set aside to be read again.
TEST_F(RelayOrdering, NoneFillsEveryConcurrencySlotFromOneHotRoom) {
  constexpr int kHot = 100;
  for (int i = kEvents; i < kHot; ++i) xadd(redis_, "ev-" + std::to_string(i), "room-1");
  auto relay = start_relay("none", {{"STREAMSHIFT_RELAY_CONCURRENCY", "64"}});
  ASSERT_TRUE(relay->ready());
  ASSERT_TRUE(eventually([&] { return target_.delivered_count() == size_t{kHot}; }, seconds(60)))
      << target_.delivered_count() << "\n"
      << relay->process().output();
  ASSERT_TRUE(eventually([&] { return pending(redis_, "events:chat") == 0; }, seconds(10)));
  EXPECT_GT(target_.max_concurrent(), 16);
  EXPECT_EQ(relay->metric("streamshift_relay_released_total"), 0) << "nothing set aside";
}

TEST_F(RelayOrdering, RoomHoldsARoomBehindARetry) {
  auto relay = start_relay_failing_ev0_once("room");
  ASSERT_TRUE(relay->ready());
  await_all(*relay);
  std::vector<int> expected(kEvents);
  for (int i = 0; i < kEvents; ++i) expected[i] = i;
  EXPECT_EQ(arrivals().first, expected);
}

TEST_F(RelayOrdering, NoneDeliversTheRestOfTheRoomWhileOneEntryWaitsToRetry) {
  auto relay = start_relay_failing_ev0_once("none");
  ASSERT_TRUE(relay->ready());
  await_all(*relay);
  std::vector<int> order = arrivals().first;
  ASSERT_EQ(order.size(), size_t{kEvents});
  EXPECT_EQ(order.back(), 0) << "ev-0, retried, arrives after the room's later events";
  EXPECT_TRUE(failed_once_.load());
  EXPECT_EQ(relay->metric("streamshift_relay_released_total"), 0) << "nothing set aside";
}

TEST(RelayOrderingSettings, AnUnknownValueStopsTheStartAndNoneIsNotChangedAtRuntime) {
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  DeliveryTarget target;
  RelayProcess bad(redis.url(), target.port(), {{"STREAMSHIFT_RELAY_ORDERING", "parallel"}});
  EXPECT_FALSE(bad.ready());
  EXPECT_NE(bad.process().wait(seconds(10)), 0);
  EXPECT_NE(bad.process().output().find("STREAMSHIFT_RELAY_ORDERING"), std::string::npos)
      << bad.process().output();

  RelayProcess relay(
      redis.url(), target.port(),
      {{"STREAMSHIFT_STREAMS", "events:chat"}, {"STREAMSHIFT_ADMIN_TOKEN", "relay-test-token"}});
  ASSERT_TRUE(relay.ready()) << relay.process().output();
  TestClient client(relay.admin_port());
  auto refused =
      client.request(make_request("POST", "/runtime_modify?STREAMSHIFT_RELAY_ORDERING=none", {},
                                  "Authorization: Bearer relay-test-token\r\n"));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400) << refused->body;
  EXPECT_NE(refused->body.find("STREAMSHIFT_RELAY_ORDERING: not runtime-capable"),
            std::string::npos)
      << refused->body;
}

}  // namespace
}  // namespace streamshift::testing
