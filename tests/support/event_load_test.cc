// EventLoad against an in-process upstream: the rate, unique traceable
// event ids, and an outcome recorded for every event, answered or not.
#include "tests/support/event_load.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>

#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/test_upstream.h"

namespace streamshift::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(EventLoad, SendsAtItsRateEachEventWithItsOwnIdAndRecordsTheAnswer) {
  TestUpstream upstream;
  auto began = Clock::now();
  EventLoad load({.port = upstream.port(), .rate = 200, .senders = 4, .prefix = "t"});
  ASSERT_TRUE(eventually(
      [&] { return load.count([](const EventOutcome&) { return true; }) >= 100; }, seconds(10)));
  load.stop();
  double elapsed_s = std::chrono::duration<double>(Clock::now() - began).count();
  std::vector<EventOutcome> outcomes = load.outcomes();
  EXPECT_LE(outcomes.size(), static_cast<size_t>(elapsed_s * 200) + 4) << "faster than the rate";
  std::set<std::string> ids;
  for (const EventOutcome& o : outcomes) {
    EXPECT_TRUE(ids.insert(o.event_id).second) << "id used twice: " << o.event_id;
    EXPECT_EQ(o.status, 200);
    EXPECT_TRUE(o.acked());
    EXPECT_LE(o.sent, o.answered);
  }
  // Each event carries its id in the body, on its own connection's request.
  std::vector<ReceivedRequest> got = upstream.requests();
  ASSERT_EQ(got.size(), outcomes.size());
  for (const ReceivedRequest& r : got) {
    size_t at = r.body.find("\"event_id\":\"t-");
    ASSERT_NE(at, std::string::npos) << r.body;
    std::string id = r.body.substr(at + 12, r.body.find('"', at + 12) - at - 12);
    EXPECT_EQ(ids.count(id), 1u) << id;
  }
  EXPECT_EQ(upstream.connections_accepted(), 4);
}

TEST(EventLoad, AnEventWithoutAnAnswerIsRecordedAsStatusZeroAndSendingGoesOn) {
  EventLoad load({.port = free_port(), .rate = 100, .senders = 1});
  ASSERT_TRUE(eventually([&] { return load.count([](const EventOutcome&) { return true; }) >= 5; },
                         seconds(10)));
  load.stop();
  for (const EventOutcome& o : load.outcomes()) {
    EXPECT_EQ(o.status, 0) << o.event_id;
    EXPECT_FALSE(o.acked());
  }
}

TEST(EventLoad, ASlowAnswerDelaysTheNextEventButCausesNoBurst) {
  TestUpstream upstream;
  auto answers = std::make_shared<std::atomic<int>>(0);  // the handler is copied per request
  upstream.set_handler([answers](const ReceivedRequest&) {
    UpstreamReply r;
    if ((*answers)++ == 0) r.delay = milliseconds(500);
    return r;
  });
  EventLoad load({.port = upstream.port(), .rate = 100, .senders = 1});
  ASSERT_TRUE(eventually([&] { return load.count([](const EventOutcome&) { return true; }) >= 10; },
                         seconds(10)));
  load.stop();
  std::vector<EventOutcome> outcomes = load.outcomes();
  ASSERT_GE(outcomes.size(), 10u);
  // After the slow first answer the next event goes at once, and the ones
  // after it keep the 10 ms spacing instead of catching up on the 50 that
  // were due meanwhile (sleep_until never wakes early).
  for (size_t i = 2; i < outcomes.size(); ++i) {
    EXPECT_GE(outcomes[i].sent - outcomes[0].answered, milliseconds(10) * (i - 1)) << i;
  }
}

}  // namespace
}  // namespace streamshift::testing
