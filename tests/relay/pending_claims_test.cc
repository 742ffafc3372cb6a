// Take-over (XAUTOCLAIM) and the idle refresh (XCLAIM .. JUSTID) with fakes
// for Redis and time.
#include "relay/pending_claims.h"

#include <gtest/gtest.h>

#include "tests/relay/relay_fakes.h"

namespace streamshift {
namespace {

using fakes::entry_resp;

class PendingClaimsTest : public fakes::PartsTest {
 protected:
  void SetUp() override {
    groups_.create();
    answer_group_creation();
  }
  void keep(StreamReader::Entries& entries) {
    for (auto& e : entries) {
      handed_.push_back(e->id);
      if (held_.holds(*e)) continue;
      e->touched_ms = clock_.now_ms();
      held_.add(std::move(e));
    }
  }
  static std::string autoclaim_reply(const std::string& next,
                                     const std::vector<std::string>& entries,
                                     const std::vector<std::string>& deleted = {}) {
    return resp::array({resp::bulk(next), resp::array(entries), resp::bulks(deleted)});
  }

  RoomBudget budget_{2, settings_.streams.size()};
  ConsumerGroups groups_{redis_, settings_, metrics_, [](ConsumerGroups::Result) {}};
  std::vector<std::string> handed_;
  StreamReader::OnEntries on_entries_ = [this](StreamReader::Entries& e, bool) { keep(e); };
  StreamReader reader_{redis_, clock_, settings_, held_, budget_, groups_, on_entries_};
  PendingClaims claims_{redis_,  clock_,  settings_, metrics_,   held_,
                        budget_, groups_, reader_,   on_entries_};
};

TEST_F(PendingClaimsTest, EveryHalfIdleLimitEachStreamIsSweptAndPagedByItsCursor) {
  claims_.start();
  clock_.advance(1499);
  EXPECT_FALSE(redis_.has("XAUTOCLAIM"));
  clock_.advance(1);
  EXPECT_TRUE(redis_.has("XAUTOCLAIM events:a g me 3000 0-0 COUNT 10"));
  EXPECT_TRUE(redis_.has("XAUTOCLAIM events:b g me 3000 0-0 COUNT 10"));
  clock_.advance(1500);  // a stream with a page in flight is not swept twice
  EXPECT_EQ(redis_.count("XAUTOCLAIM"), 2u);
  redis_.answer("XAUTOCLAIM events:a",
                autoclaim_reply("7-0", {entry_resp("5-0", "r"), entry_resp("6-0", "r")}));
  EXPECT_EQ(handed_, (std::vector<std::string>{"5-0", "6-0"}));
  EXPECT_EQ(metrics_.claimed.Value(), 2);
  EXPECT_TRUE(redis_.has("XAUTOCLAIM events:a g me 3000 7-0 COUNT 10"));  // the next page
  redis_.answer("XAUTOCLAIM events:a", autoclaim_reply("0-0", {entry_resp("6-0", "r")}));
  EXPECT_EQ(metrics_.claimed.Value(), 2);  // 6-0 was ours already
  EXPECT_FALSE(redis_.has("XAUTOCLAIM events:a"));
}

TEST_F(PendingClaimsTest, IdsWhoseEntriesAreGoneAreCountedLost) {
  claims_.sweep();
  redis_.answer("XAUTOCLAIM events:a", autoclaim_reply("0-0", {}, {"3-0", "4-0"}));
  EXPECT_EQ(metrics_.lost_trimmed.Value(), 2);
}

TEST_F(PendingClaimsTest, NogroupCreatesTheGroupAgain) {
  claims_.sweep();
  redis_.answer("XAUTOCLAIM events:a", resp::error("NOGROUP No such key"));
  EXPECT_FALSE(groups_.ready());
  EXPECT_TRUE(redis_.has("XGROUP CREATE events:a"));
  claims_.sweep();  // not while the group is missing
  EXPECT_FALSE(redis_.has("XAUTOCLAIM events:a"));
}

TEST_F(PendingClaimsTest, AClaimWhoseReplyWasLostMakesTheReaderReadOwnPendingAgain) {
  reader_.on_groups(ConsumerGroups::Result::kReady);
  redis_.answer("XREADGROUP", resp::array({}));  // own pending empty: new entries next
  ASSERT_TRUE(redis_.has("XREADGROUP GROUP g me COUNT 10 BLOCK"));
  redis_.fail("XREADGROUP", RedisStatus::kOverloaded);  // the next read waits for a backoff
  claims_.sweep();
  redis_.fail("XAUTOCLAIM events:a", RedisStatus::kTimeout);  // it may have claimed for us
  clock_.advance(50);
  EXPECT_TRUE(redis_.has("XREADGROUP GROUP g me COUNT 10 STREAMS events:a events:b 0 0"));
}

TEST_F(PendingClaimsTest, HeldEntriesUntouchedForAThirdOfTheLimitAreClaimedAgain) {
  StreamReader::Entries old_ones =
      fakes::entries(0, {entry_resp("1-0", "r"), entry_resp("2-0", "r")});
  keep(old_ones);
  clock_.advance(500);
  StreamReader::Entries fresh = fakes::entries(1, {entry_resp("3-0", "s")});
  keep(fresh);
  clock_.advance(500);  // the old ones: 1000 ms = a third of 3000
  claims_.refresh();
  const auto& call = redis_.find("XCLAIM");
  ASSERT_EQ(call.args.size(), 8u);
  EXPECT_EQ(call.args[1], "events:a");
  EXPECT_EQ(call.args[4], "0");
  EXPECT_EQ(call.args.back(), "JUSTID");
  EXPECT_EQ(redis_.count("XCLAIM"), 1u);  // events:b's entry is recent
  claims_.refresh();
  EXPECT_EQ(redis_.count("XCLAIM"), 1u);  // touched just now
}

TEST_F(PendingClaimsTest, SetAsideEntriesAreFoundWithXpendingAndClaimedAgainOnlyWhileIdle) {
  for (uint64_t ms = 1; ms <= 4; ++ms) budget_.admit("0:r", 0, StreamId{ms, 0});
  claims_.refresh();
  // Over (after, last], after being the id just before the first set aside.
  EXPECT_TRUE(redis_.has("XPENDING events:a g IDLE 1000 (" + StreamId{3, 0}.before().to_string() +
                         " 4-0 1000 me"));
  claims_.refresh();  // one refresh per stream at a time
  EXPECT_EQ(redis_.count("XPENDING"), 1u);
  redis_.answer("XPENDING", resp::array({resp::array({resp::bulk("3-0"), resp::bulk("me"),
                                                      resp::integer(1500), resp::integer(1)}),
                                         resp::array({resp::bulk("4-0"), resp::bulk("me"),
                                                      resp::integer(1500), resp::integer(1)})}));
  EXPECT_TRUE(redis_.has("XCLAIM events:a g me 1000 3-0 4-0 JUSTID"));
  redis_.answer("XCLAIM", resp::error("NOGROUP gone"));
  EXPECT_FALSE(groups_.ready());
}

TEST_F(PendingClaimsTest, WhileDrainingOnlyHeldEntriesAreRefreshed) {
  claims_.start();
  StreamReader::Entries held = fakes::entries(0, {entry_resp("1-0", "r")});
  keep(held);
  for (uint64_t ms = 5; ms <= 8; ++ms) budget_.admit("0:q", 0, StreamId{ms, 0});
  claims_.stop();
  clock_.advance(3000);
  EXPECT_FALSE(redis_.has("XAUTOCLAIM"));
  EXPECT_FALSE(redis_.has("XPENDING"));
  EXPECT_TRUE(redis_.has("XCLAIM events:a g me 0 1-0 JUSTID"));
  claims_.close();
  size_t before = redis_.count("XCLAIM");
  clock_.advance(3000);
  EXPECT_EQ(redis_.count("XCLAIM"), before);
}

}  // namespace
}  // namespace streamshift
