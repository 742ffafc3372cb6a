// Idle consumer clean-up: the decision (nothing pending, idle beyond the
// threshold, never ourselves) and, with a fake Redis, the look-up (`idle`,
// never `inactive`), the deletions through the checking script and their
// counters.
#include "relay/idle_consumers.h"

#include <gtest/gtest.h>

#include "tests/relay/relay_fakes.h"

namespace streamshift {
namespace {

std::vector<std::string> names(const std::vector<ConsumerInfo>& rows) {
  std::vector<std::string> out;
  for (const ConsumerInfo& c : rows) out.push_back(c.name);
  return out;
}

TEST(IdleConsumersDecision, OnlyIdleConsumersWithoutPendingAndNeverOurselves) {
  std::vector<ConsumerInfo> rows = {
      {.name = "gone", .pending = 0, .idle_ms = 5001},
      {.name = "holding", .pending = 2, .idle_ms = 999999},
      {.name = "recent", .pending = 0, .idle_ms = 4999},
      {.name = "exactly", .pending = 0, .idle_ms = 5000},
      {.name = "me", .pending = 0, .idle_ms = 999999},
  };
  EXPECT_EQ(names(idle_consumers_to_delete(rows, "me", 5000)), std::vector<std::string>{"gone"});
}

TEST(IdleConsumersDecision, ZeroThresholdDeletesNothing) {
  std::vector<ConsumerInfo> rows = {{.name = "gone", .pending = 0, .idle_ms = 1 << 30}};
  EXPECT_TRUE(idle_consumers_to_delete(rows, "me", 0).empty());
}

class IdleConsumersTest : public fakes::PartsTest {
 protected:
  static std::string row(const std::string& name, int64_t pending, int64_t idle) {
    return resp::array({resp::bulk("name"), resp::bulk(name), resp::bulk("pending"),
                        resp::integer(pending), resp::bulk("idle"), resp::integer(idle)});
  }
  // Redis 7.2+: `inactive` too.
  static std::string row(const std::string& name, int64_t pending, int64_t idle, int64_t inactive) {
    return resp::array({resp::bulk("name"), resp::bulk(name), resp::bulk("pending"),
                        resp::integer(pending), resp::bulk("idle"), resp::integer(idle),
                        resp::bulk("inactive"), resp::integer(inactive)});
  }
  // The deletion of `name` from events:a: the checking script.
  static std::string deletion(const std::string& name) {
    return std::string("EVAL ") + kDeleteIdleConsumerScript + " 1 events:a g " + name;
  }
  double deleted() { return metrics_.consumers_deleted.Value(); }
  double dropped() { return metrics_.consumer_pending_dropped.Value(); }
};

TEST_F(IdleConsumersTest, EveryIntervalEachStreamIsLookedUpAndItsIdleConsumersDeleted) {
  settings_.consumer_idle_delete_ms = 1000;
  IdleConsumers idle(redis_, clock_, settings_, metrics_);
  idle.start();
  clock_.advance(settings_.lag_interval_ms - 1);
  EXPECT_FALSE(redis_.has("XINFO CONSUMERS"));
  clock_.advance(1);
  EXPECT_TRUE(redis_.has("XINFO CONSUMERS events:b g"));
  redis_.answer("XINFO CONSUMERS events:a g",
                resp::array({row("old-pod", 0, 2000), row("busy-pod", 3, 2000), row("me", 0, 2000),
                             row("new-pod", 0, 10)}));
  EXPECT_EQ(redis_.count("EVAL"), 1u);
  EXPECT_FALSE(redis_.has("XGROUP DELCONSUMER"));
  redis_.answer(deletion("old-pod"), resp::integer(0));
  EXPECT_EQ(deleted(), 1);
  EXPECT_EQ(dropped(), 0);
  redis_.answer("XINFO CONSUMERS events:b g", resp::error("NOGROUP no such group"));
  EXPECT_FALSE(redis_.has("EVAL"));
}

TEST_F(IdleConsumersTest, AFailedDeletionIsNotCounted) {
  settings_.consumer_idle_delete_ms = 1000;
  IdleConsumers idle(redis_, clock_, settings_, metrics_);
  idle.clean();
  redis_.answer("XINFO CONSUMERS events:a g", resp::array({row("old-pod", 0, 2000)}));
  redis_.fail(deletion("old-pod"), RedisStatus::kTimeout);
  EXPECT_EQ(deleted(), 0);
}

// Redis 7.2+: `idle` counts every read attempt, `inactive` only successful
// ones. A live relay polling a quiet stream is fresh by `idle`.
TEST_F(IdleConsumersTest, IdleDecidesNotInactive) {
  settings_.consumer_idle_delete_ms = 60000;
  IdleConsumers idle(redis_, clock_, settings_, metrics_);
  idle.clean();
  redis_.answer("XINFO CONSUMERS events:a g",
                resp::array({row("polls-empty", 0, 10, 90000), row("gone", 0, 90000, 10)}));
  EXPECT_EQ(redis_.count("EVAL"), 1u);
  EXPECT_TRUE(redis_.has(deletion("gone")));
}

// The script found a pending entry (gained after the XINFO): kept, not counted.
TEST_F(IdleConsumersTest, AConsumerThatGainedAPendingEntryIsKeptAndNotCounted) {
  settings_.consumer_idle_delete_ms = 1000;
  IdleConsumers idle(redis_, clock_, settings_, metrics_);
  idle.clean();
  redis_.answer("XINFO CONSUMERS events:a g", resp::array({row("old-pod", 0, 2000)}));
  redis_.answer(deletion("old-pod"), resp::integer(-1));
  EXPECT_EQ(deleted(), 0);
  EXPECT_EQ(dropped(), 0);
}

// Should never happen with the script; if it does, it is counted.
TEST_F(IdleConsumersTest, PendingEntriesDroppedByADeletionAreCounted) {
  settings_.consumer_idle_delete_ms = 1000;
  IdleConsumers idle(redis_, clock_, settings_, metrics_);
  idle.clean();
  redis_.answer("XINFO CONSUMERS events:a g", resp::array({row("old-pod", 0, 2000)}));
  redis_.answer(deletion("old-pod"), resp::integer(2));
  EXPECT_EQ(deleted(), 1);
  EXPECT_EQ(dropped(), 2);
}

TEST_F(IdleConsumersTest, ZeroThresholdNeverLooksUp) {
  settings_.consumer_idle_delete_ms = 0;
  IdleConsumers idle(redis_, clock_, settings_, metrics_);
  idle.start();
  clock_.advance(10 * IdleConsumers::kMaxIntervalMs);
  idle.clean();
  EXPECT_FALSE(redis_.has("XINFO CONSUMERS"));
}

TEST_F(IdleConsumersTest, TheIntervalIsAtMostAMinute) {
  settings_.lag_interval_ms = 600000;
  IdleConsumers idle(redis_, clock_, settings_, metrics_);
  idle.start();
  clock_.advance(IdleConsumers::kMaxIntervalMs);
  EXPECT_TRUE(redis_.has("XINFO CONSUMERS events:a g"));
}

}  // namespace
}  // namespace streamshift
