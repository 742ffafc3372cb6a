// The relay put together over fakes: readiness, one entry's whole way, and
// the drain and shutdown sequence.
#include "relay/relay.h"

#include <gtest/gtest.h>

#include "tests/relay/relay_fakes.h"

namespace streamshift {
namespace {

using fakes::entry_resp;
using fakes::read_resp;

class RelayTest : public fakes::PartsTest {
 protected:
  // Connected, groups created, own pending list empty: blocked on new entries.
  void up() {
    relay_.start();
    redis_.hooks.commands_ready();
    answer_group_creation();
    redis_.answer("XREADGROUP", resp::array({}));
  }
  void drain() {
    relay_.drain([this] { ++stopped_; });
  }

  // Answers the oldest MGET: no event delivered yet.
  void answer_mget() {
    std::vector<std::string> nils(redis_.find("MGET").args.size() - 1, resp::nil());
    redis_.answer("MGET", resp::array(nils));
  }

  // The first words of the scan in flight (XREADGROUP from an id, on the
  // commands connection), or "" when none is.
  std::string scan_pending() const {
    for (const auto& call : redis_.pending()) {
      if (call.on_reader || call.args.empty() || call.args[0] != "XREADGROUP") continue;
      std::string prefix;
      for (size_t i = 0; i < 8 && i < call.args.size(); ++i)
        prefix += (prefix.empty() ? "" : " ") + call.args[i];
      return prefix;
    }
    return "";
  }

  fakes::FakeTarget target_;
  Relay relay_{RelayIo{redis_, clock_, target_}, settings_, metrics_};
  int stopped_ = 0;
};

TEST_F(RelayTest, ReadyOnceConnectedWithItsGroupsAndNotWhileDraining) {
  redis_.commands_up = false;
  EXPECT_EQ(relay_.not_ready_reason(), "redis not connected");
  redis_.commands_up = true;
  relay_.start();
  EXPECT_TRUE(redis_.started);
  EXPECT_EQ(relay_.not_ready_reason(), "consumer groups not created yet");
  redis_.hooks.commands_ready();
  answer_group_creation();
  EXPECT_TRUE(relay_.ready());
  // The gauges come with readiness.
  EXPECT_TRUE(redis_.has("XLEN events:a"));
  EXPECT_TRUE(redis_.has("XINFO GROUPS events:a"));
  drain();
  EXPECT_EQ(relay_.not_ready_reason(), "draining");
}

TEST_F(RelayTest, AnEntryIsReadCheckedDeliveredAndAckedWithItsMark) {
  up();
  redis_.answer("XREADGROUP", read_resp("events:a", {entry_resp("1-0", "r")}));
  redis_.answer("MGET", resp::array({resp::nil()}));
  target_.answer("ev-1-0", 202);
  clock_.end_turn();
  EXPECT_TRUE(redis_.has("EVAL"));
  redis_.answer("EVAL", resp::integer(1));
  EXPECT_EQ(metrics_.held.Value(), 0);
  EXPECT_TRUE(redis_.has("XREADGROUP GROUP g me COUNT 10 BLOCK"));  // the next read
}

TEST_F(RelayTest, DrainCutsTheReadFinishesWhatIsInFlightLeavesTheRestPendingThenCloses) {
  up();
  redis_.answer("XREADGROUP",
                read_resp("events:a", {entry_resp("1-0", "r"), entry_resp("2-0", "r")}));
  redis_.answer("MGET", resp::array({resp::nil(), resp::nil()}));
  ASSERT_EQ(target_.requests().size(), 1u);
  drain();
  EXPECT_TRUE(redis_.reader_closed);  // the blocked read is cut at once
  EXPECT_EQ(metrics_.draining.Value(), 1);
  EXPECT_EQ(metrics_.held.Value(), 1);  // 2-0 left pending, never acked
  EXPECT_FALSE(clock_.closed());
  target_.answer("ev-1-0", 200);
  clock_.end_turn();
  EXPECT_FALSE(redis_.commands_closed);  // its ack is under way
  redis_.answer("EVAL", resp::integer(1));
  EXPECT_TRUE(clock_.closed());
  EXPECT_TRUE(target_.shut_down);
  EXPECT_TRUE(redis_.commands_closed);
  EXPECT_EQ(stopped_, 1);
  EXPECT_EQ(redis_.count("EVAL"), 1u);  // 2-0 never acked
  drain();
  EXPECT_EQ(stopped_, 1);
}

TEST_F(RelayTest, WithNothingHeldTheDrainEndsAtOnce) {
  up();
  drain();
  EXPECT_EQ(stopped_, 1);
  EXPECT_TRUE(redis_.commands_closed);
}

TEST_F(RelayTest, TheDrainTimeoutClosesWhatStillHangsAndLeavesItPending) {
  up();
  redis_.answer("XREADGROUP", read_resp("events:a", {entry_resp("1-0", "r")}));
  redis_.answer("MGET", resp::array({resp::nil()}));
  drain();
  clock_.advance(settings_.drain_timeout_ms - 1);
  EXPECT_EQ(stopped_, 0);
  clock_.advance(1);
  EXPECT_TRUE(target_.shut_down);  // the hanging delivery is failed: released, not acked
  EXPECT_EQ(stopped_, 1);
  EXPECT_EQ(redis_.count("EVAL"), 0u);
  EXPECT_EQ(redis_.count("XACK"), 0u);
}

TEST_F(RelayTest, AnAckFailingWhileDrainingIsTriedAgainBeforeTheRelayStops) {
  up();
  redis_.answer("XREADGROUP", read_resp("events:a", {entry_resp("1-0", "r")}));
  redis_.answer("MGET", resp::array({resp::nil()}));
  target_.answer("ev-1-0", 200);
  drain();
  clock_.end_turn();
  redis_.fail("EVAL", RedisStatus::kNotConnected);
  EXPECT_EQ(stopped_, 0);
  clock_.advance(200);
  clock_.end_turn();
  redis_.answer("EVAL", resp::integer(1));
  EXPECT_EQ(redis_.count("EVAL"), 2u);
  EXPECT_EQ(stopped_, 1);
}

// A room's next entry, read while the entries before it are handed back,
// waits for them: r's head 3-0 fails while 5-0 (read after a scan for q
// was sent) waits for its duplicate check; 4-0 is set aside, 3-0 succeeds,
// and the scan hands 4-0 back before 5-0's check answers.
TEST_F(RelayTest, AnEntryCheckedWhileOlderOnesOfItsRoomComeBackIsNotDeliveredBeforeThem) {
  up();
  redis_.answer("XREADGROUP",
                read_resp("events:a", {entry_resp("1-0", "q"), entry_resp("2-0", "q"),
                                       entry_resp("3-0", "r"), entry_resp("4-0", "r")}));
  answer_mget();
  // q's head fails: 2-0 is set aside; its retry succeeds and q is scanned.
  target_.answer("ev-1-0", 503);
  clock_.advance(100);
  target_.answer("ev-1-0", 200);
  ASSERT_FALSE(scan_pending().empty());
  // 5-0 arrives (Redis ran that read before the scan); its check waits.
  redis_.answer("XREADGROUP GROUP g me COUNT 10 BLOCK",
                read_resp("events:a", {entry_resp("5-0", "r")}));
  ASSERT_TRUE(redis_.has("MGET"));
  // r's head fails: 4-0 is set aside; the retry succeeds.
  target_.answer("ev-3-0", 503);
  clock_.advance(100);
  target_.answer("ev-3-0", 200);
  // The scan hands back q's 2-0 and r's 4-0 (5-0 is held), then 5-0's check answers.
  redis_.answer(scan_pending(),
                read_resp("events:a", {entry_resp("2-0", "q"), entry_resp("4-0", "r"),
                                       entry_resp("5-0", "r")}));
  // Everything then runs its course: r's entries reach the target in stream order.
  std::vector<std::string> r_order;
  for (int step = 0; step < 20; ++step) {
    if (redis_.has("MGET")) {
      answer_mget();
    } else if (std::string scan = scan_pending(); !scan.empty()) {
      redis_.answer(scan, read_resp("events:a", {entry_resp("4-0", "r"), entry_resp("5-0", "r")}));
    } else if (!target_.requests().empty()) {
      const std::string& head = target_.requests().front()->head;
      for (const char* id : {"4-0", "5-0"})
        if (head.find(std::string("X-Event-Id: ev-") + id + "\r") != std::string::npos)
          r_order.push_back(id);
      target_.answer("", 200);
    }
  }
  EXPECT_EQ(r_order, (std::vector<std::string>{"4-0", "5-0"}));
}

}  // namespace
}  // namespace streamshift
