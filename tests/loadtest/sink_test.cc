// The load generator's sink as a slow target: each answer waits its delay on
// a loop timer, so calls overlap instead of queueing, and a stop answers
// what still waits.
#include "loadtest/sink.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <vector>

#include "tests/support/net.h"

namespace streamshift {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

TEST(Sink, DelayedAnswersOverlapAndEachWaitsItsDelay) {
  constexpr int kCalls = 4;
  constexpr milliseconds kDelay{200};
  Sink sink({"127.0.0.1", 0}, 10, kDelay.count());
  ASSERT_EQ(sink.start(), 0);
  std::vector<std::unique_ptr<testing::TestClient>> clients;
  for (int i = 0; i < kCalls; ++i) {
    clients.push_back(std::make_unique<testing::TestClient>(sink.port()));
    ASSERT_TRUE(clients.back()->connected());
  }
  Clock::time_point start = Clock::now();
  for (auto& c : clients) ASSERT_TRUE(c->send(testing::make_request("POST", "/x", "{}")));
  for (auto& c : clients) {
    auto r = c->read_response(std::chrono::seconds(10));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    // libuv's clock counts whole milliseconds (truncated), so a timer may
    // fire up to 1 ms before the delay measured on steady_clock.
    EXPECT_GE(Clock::now() - start, kDelay - milliseconds(2));
  }
  // One after the other they would take kCalls delays.
  EXPECT_LT(Clock::now() - start, kDelay * kCalls);
  SinkReport report = sink.stop();
  EXPECT_EQ(report.foreign, uint64_t{kCalls});  // not load events: counted apart
}

TEST(Sink, StoppingAnswersWhatWaitsForItsDelayAtOnce) {
  Sink sink({"127.0.0.1", 0}, 10, 60000);
  ASSERT_EQ(sink.start(), 0);
  testing::TestClient client(sink.port());
  ASSERT_TRUE(client.send(testing::make_request("POST", "/x", "{}")));
  EXPECT_FALSE(client.read_response(milliseconds(100)));  // still waiting
  Clock::time_point start = Clock::now();
  SinkReport report = sink.stop();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(report.foreign, 1u);
}

}  // namespace
}  // namespace streamshift
