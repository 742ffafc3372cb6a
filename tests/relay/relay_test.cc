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

}  // namespace
}  // namespace streamshift
