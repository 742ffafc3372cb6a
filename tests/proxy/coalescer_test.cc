// Coalescing with a hand-driven clock: deterministic windows.
#include "proxy/coalescer.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace streamshift {
namespace {

struct Sent {
  std::string key;
  std::string payload;
  uint64_t at;
};

class CoalescerTest : public ::testing::Test {
 protected:
  explicit CoalescerTest(CoalescerOptions o = {100, 1000, 1000})
      : c_(o, [this](const std::string& type) { ++dropped_[type]; }) {}

  // Offers "<type>#<n>" for key at t; sends (leading edges) are recorded.
  void event(const std::string& key, const std::string& type, int n, uint64_t t) {
    advance(t);
    offer(key, type, n, t);
  }
  // Offers without running the timers due first: the loop was busy.
  void offer(const std::string& key, const std::string& type, int n, uint64_t t) {
    std::string payload = type + "#" + std::to_string(n);
    auto d = c_.offer(key, type, t, [&] { return payload; });
    if (d == Coalescer<std::string>::Decision::kSendNow ||
        d == Coalescer<std::string>::Decision::kPassThrough) {
      sent_.push_back({key, payload, t});
    }
  }
  void advance(uint64_t t) {
    c_.advance(t, [&](std::string&& p) { sent_.push_back({key_of(p), p, t}); });
  }
  // Payloads carry no key; tests that need it use one key or check payloads.
  static std::string key_of(const std::string&) { return "?"; }
  std::vector<std::string> payloads() const {
    std::vector<std::string> out;
    for (const auto& s : sent_) out.push_back(s.payload);
    return out;
  }

  Coalescer<std::string> c_;
  std::vector<Sent> sent_;
  std::map<std::string, int> dropped_;
};

// The loop is busy: a window's timer runs late, after the next event of its
// key arrived. The held state is older than that event and must never be
// sent after it.
TEST_F(CoalescerTest, ALateTimerNeverLetsAHeldStateOvertakeANewerEvent) {
  offer("k", "typing_start", 0, 0);   // sent, window [0, 100)
  offer("k", "typing_stop", 1, 50);   // held
  offer("k", "typing_start", 2, 60);  // held, replaces stop#1
  offer("k", "typing_stop", 3, 120);  // window over, timer late: sent now
  advance(130);                       // the late timer of [0, 100)
  advance(400);                       // and of [120, 220)
  EXPECT_EQ(payloads(), (std::vector<std::string>{"typing_start#0", "typing_stop#3"}));
  EXPECT_EQ(dropped_["typing_start"], 1);  // start#2, superseded by stop#3
  EXPECT_EQ(dropped_["typing_stop"], 1);   // stop#1, replaced by start#2
}

TEST_F(CoalescerTest, ALateTimerWithTheSameStateAsSentDropsBoth) {
  offer("k", "typing_start", 0, 0);    // sent
  offer("k", "typing_stop", 1, 50);    // held
  offer("k", "typing_start", 2, 120);  // late: the user types again; start is what was sent
  advance(130);
  advance(400);
  // The last state out is typing_start, which is the newest event's state.
  EXPECT_EQ(payloads(), (std::vector<std::string>{"typing_start#0"}));
  EXPECT_EQ(dropped_["typing_stop"], 1);
  EXPECT_EQ(dropped_["typing_start"], 1);
}

TEST_F(CoalescerTest, TenEventsInOneWindowGiveAtMostTwoSendsAndTheLastStateArrives) {
  for (int i = 0; i < 9; ++i) event("room1|u1", "typing_start", i, i * 10);
  event("room1|u1", "typing_stop", 9, 95);
  advance(100);
  EXPECT_EQ(payloads(), (std::vector<std::string>{"typing_start#0", "typing_stop#9"}));
  EXPECT_EQ(dropped_["typing_start"], 8);
}

TEST_F(CoalescerTest, RepeatedSameStateIsSentOnce) {
  for (int i = 0; i < 10; ++i) event("k", "typing_start", i, i * 10);
  advance(100);
  advance(200);
  EXPECT_EQ(payloads(), (std::vector<std::string>{"typing_start#0"}));
  EXPECT_EQ(dropped_["typing_start"], 9);
}

TEST_F(CoalescerTest, StartThenStopInsideOneWindowDeliversStop) {
  event("k", "typing_start", 0, 0);
  event("k", "typing_stop", 1, 30);
  advance(99);
  EXPECT_EQ(sent_.size(), 1u);  // the stop waits for the window to close
  advance(100);
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[1].payload, "typing_stop#1");
  EXPECT_EQ(sent_[1].at, 100u);  // at most one window late
}

TEST_F(CoalescerTest, KeysAreIndependent) {
  event("roomA|u1", "typing_start", 0, 0);
  event("roomA|u2", "typing_start", 1, 5);
  event("roomB|u1", "typing_start", 2, 6);
  event("roomA|u1", "typing_stop", 3, 10);
  event("roomA|u2", "typing_start", 4, 20);
  advance(150);
  EXPECT_EQ(payloads(), (std::vector<std::string>{"typing_start#0", "typing_start#1",
                                                  "typing_start#2", "typing_stop#3"}));
}

TEST_F(CoalescerTest, OrderPerKeyIsKept) {
  event("k", "typing_start", 0, 0);    // leading edge
  event("k", "typing_stop", 1, 50);    // trailing edge at 100
  event("k", "typing_start", 2, 150);  // held in the window opened at 100, sent at 200
  event("k", "typing_stop", 3, 260);   // held in the window opened at 200 ...
  event("k", "typing_start", 4, 270);  // ... and replaced: the latest state wins
  advance(1000);
  EXPECT_EQ(payloads(),
            (std::vector<std::string>{"typing_start#0", "typing_stop#1", "typing_start#2"}));
  for (size_t i = 1; i < sent_.size(); ++i) EXPECT_LT(sent_[i - 1].at, sent_[i].at);
  EXPECT_EQ(dropped_["typing_stop"], 1);
  EXPECT_EQ(dropped_["typing_start"], 1);  // #4: its state was already sent by #2
}

TEST_F(CoalescerTest, TheStateIsRefreshedWhileTypingGoesOn) {
  // 8 events a second for 3 seconds: far fewer sends, but at least one per refresh interval.
  int n = 0;
  for (uint64_t t = 0; t < 3000; t += 125) event("k", "typing_start", n++, t);
  advance(4000);
  EXPECT_GE(sent_.size(), 3u);
  EXPECT_LE(sent_.size(), 4u);
  for (size_t i = 1; i < sent_.size(); ++i) EXPECT_LE(sent_[i].at - sent_[i - 1].at, 1125u);
  EXPECT_EQ(dropped_["typing_start"], n - static_cast<int>(sent_.size()));
}

TEST_F(CoalescerTest, IdleKeysAreForgotten) {
  event("a", "typing_start", 0, 0);
  event("b", "typing_stop", 1, 0);
  EXPECT_EQ(c_.keys(), 2u);
  advance(1100);
  EXPECT_EQ(c_.keys(), 0u);
  EXPECT_EQ(c_.next_deadline(), 0u);
}

TEST_F(CoalescerTest, ShutdownFlushSendsHeldStatesThatDiffer) {
  event("a", "typing_start", 0, 0);
  event("a", "typing_stop", 1, 10);  // held, differs: flushed
  event("b", "typing_start", 2, 0);
  event("b", "typing_start", 3, 10);  // held, same: dropped
  std::vector<std::string> flushed;
  c_.flush([&](std::string&& p) { flushed.push_back(p); });
  EXPECT_EQ(flushed, (std::vector<std::string>{"typing_stop#1"}));
  EXPECT_EQ(dropped_["typing_start"], 1);
  EXPECT_EQ(c_.keys(), 0u);
}

class TinyCoalescer : public CoalescerTest {
 protected:
  TinyCoalescer() : CoalescerTest({100, 1000, 2}) {}
};

TEST_F(TinyCoalescer, BeyondTheKeyCapEventsPassThroughUncoalesced) {
  event("a", "typing_start", 0, 0);
  event("b", "typing_start", 1, 0);
  event("c", "typing_start", 2, 1);
  event("c", "typing_start", 3, 2);
  EXPECT_EQ(payloads(), (std::vector<std::string>{"typing_start#0", "typing_start#1",
                                                  "typing_start#2", "typing_start#3"}));
  EXPECT_EQ(c_.overflow(), 2u);
}

}  // namespace
}  // namespace streamshift
