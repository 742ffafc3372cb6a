// The per-room memory budget: which entries are held, which are set aside
// (pending in Redis), and how scans of the own pending list bring them
// back in order.
#include "relay/room_budget.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace streamshift {
namespace {

StreamId id(uint64_t ms) {
  return StreamId{ms, 0};
}

class RoomBudgetTest : public ::testing::Test {
 protected:
  // Admits ids [from, to] of `room` as read new; returns those held.
  std::vector<uint64_t> admit(const std::string& room, uint64_t from, uint64_t to) {
    std::vector<uint64_t> held;
    for (uint64_t i = from; i <= to; ++i) {
      if (budget_.admit(room, 0, id(i))) held.push_back(i);
    }
    for (uint64_t i : held) held_[room].insert(i);
    return held;
  }
  // A scan page of (room, id) entries in id order; returns the ids held.
  std::vector<uint64_t> scan(const std::vector<std::pair<std::string, uint64_t>>& page) {
    std::vector<uint64_t> held;
    for (const auto& [room, i] : page) {
      if (budget_.admit_scanned(room, 0, id(i))) {
        held.push_back(i);
        held_[room].insert(i);
      }
    }
    return held;
  }
  // The `n` oldest entries `room` holds leave.
  void leave(const std::string& room, int n) {
    for (int i = 0; i < n; ++i) leave_id(room, *held_[room].begin());
  }
  void leave_id(const std::string& room, uint64_t i) {
    held_[room].erase(i);
    budget_.left(room, id(i));
  }
  RoomBudget budget_{3, 1};
  std::map<std::string, std::set<uint64_t>> held_;  // what the budget holds, per room
};

TEST_F(RoomBudgetTest, HoldsUpToTheCapAndSetsAsideTheRest) {
  EXPECT_EQ(admit("a", 1, 6), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_TRUE(budget_.spilled("a"));
  EXPECT_EQ(budget_.held("a"), 3u);
  EXPECT_EQ(admit("b", 7, 8), (std::vector<uint64_t>{7, 8}));  // other rooms unaffected
  EXPECT_FALSE(budget_.spilled("b"));
  auto range = budget_.set_aside_range(0);
  ASSERT_TRUE(range);
  EXPECT_EQ(range->first, id(4).before());
  EXPECT_EQ(range->second, id(6));
}

TEST_F(RoomBudgetTest, ANewerEntryNeverOvertakesOnesSetAside) {
  admit("a", 1, 6);
  leave("a", 3);  // room for more, but 4..6 are in Redis
  EXPECT_TRUE(admit("a", 10, 10).empty());
  EXPECT_EQ(budget_.set_aside_range(0)->second, id(10));
}

TEST_F(RoomBudgetTest, AScanBringsThemBackInOrderAndTheRoomLeavesTheSpilledState) {
  admit("a", 1, 6);
  admit("a", 10, 10);
  EXPECT_FALSE(budget_.next_scan(0));  // nothing wanted while the room is full
  leave("a", 3);
  auto from = budget_.next_scan(0);
  ASSERT_TRUE(from);
  EXPECT_EQ(*from, id(4).before());
  EXPECT_FALSE(budget_.next_scan(0));  // one scan at a time
  // The own pending list after `from`: a's 4, 5, 6, b's 7, a's 10.
  EXPECT_EQ(scan({{"a", 4}, {"a", 5}, {"a", 6}, {"b", 7}, {"a", 10}}),
            (std::vector<uint64_t>{4, 5, 6, 7}));
  EXPECT_FALSE(budget_.scan_page_done(0, id(10)));  // a is full again: the scan ends
  EXPECT_TRUE(budget_.spilled("a"));
  leave("a", 3);
  from = budget_.next_scan(0);
  ASSERT_TRUE(from);
  EXPECT_EQ(*from, id(6));
  EXPECT_EQ(scan({{"a", 10}}), (std::vector<uint64_t>{10}));
  EXPECT_FALSE(budget_.spilled("a"));
  EXPECT_FALSE(budget_.scan_page_done(0, id(10)));
  EXPECT_EQ(admit("a", 11, 11), (std::vector<uint64_t>{11}));
}

TEST_F(RoomBudgetTest, TheScanGoesOnWhileARoomCanTakeMore) {
  admit("a", 1, 6);
  leave("a", 3);
  ASSERT_TRUE(budget_.next_scan(0));
  EXPECT_EQ(scan({{"a", 4}}), (std::vector<uint64_t>{4}));
  EXPECT_TRUE(budget_.scan_page_done(0, id(4)));  // a-5 and a-6 still to come
  EXPECT_EQ(scan({{"a", 5}, {"a", 6}}), (std::vector<uint64_t>{5, 6}));
  EXPECT_FALSE(budget_.spilled("a"));
  EXPECT_FALSE(budget_.scan_page_done(0, id(6)));
}

TEST_F(RoomBudgetTest, SetAsideEntriesNoLongerPendingAreForgotten) {
  admit("a", 1, 6);  // 4..6 set aside, then taken over by another relay
  leave("a", 3);
  ASSERT_TRUE(budget_.next_scan(0));
  EXPECT_EQ(scan({{"b", 8}}), (std::vector<uint64_t>{8}));
  EXPECT_FALSE(budget_.scan_page_done(0, id(8)));
  EXPECT_FALSE(budget_.spilled("a"));
  EXPECT_EQ(admit("a", 12, 12), (std::vector<uint64_t>{12}));
  // The end of the own pending list says the same.
  admit("c", 20, 24);
  leave("c", 3);
  ASSERT_TRUE(budget_.next_scan(0));
  EXPECT_FALSE(budget_.scan_page_done(0, std::nullopt));
  EXPECT_FALSE(budget_.spilled("c"));
}

TEST_F(RoomBudgetTest, AnOlderEntryMayBeHeldWhileNewerOnesAreSetAside) {
  admit("a", 10, 14);  // 13, 14 set aside
  leave("a", 1);
  EXPECT_EQ(admit("a", 5, 5), (std::vector<uint64_t>{5}));  // claimed from a dead relay
  EXPECT_TRUE(admit("a", 6, 6).empty());                    // full again: set aside
  EXPECT_EQ(budget_.set_aside_range(0)->first, id(6).before());
}

TEST_F(RoomBudgetTest, AFailingRoomKeepsOnlyItsHeadAndWantsNoScan) {
  admit("a", 1, 1);
  budget_.set_failing("a", true);
  EXPECT_TRUE(admit("a", 2, 3).empty());
  EXPECT_FALSE(budget_.next_scan(0));
  budget_.set_failing("a", false);  // delivered at last
  leave("a", 1);
  auto from = budget_.next_scan(0);
  ASSERT_TRUE(from);
  EXPECT_EQ(*from, id(2).before());
}

TEST_F(RoomBudgetTest, AHeldEntryWaitingToQueueIsSetAsideBehindAnOlderOne) {
  admit("a", 1, 3);  // 1 delivering, 2 queued, 3 waiting for its duplicate check
  budget_.set_failing("a", true);
  budget_.set_aside("a", 0, id(2));  // queued behind the failing head
  leave_id("a", 2);
  EXPECT_FALSE(budget_.may_queue("a", id(3)));
  EXPECT_TRUE(budget_.may_queue("b", id(3)));
}

TEST_F(RoomBudgetTest, SetAsideBehindTheRunningScanKeepsTheRoomSpilled) {
  admit("a", 1, 6);
  leave("a", 3);
  ASSERT_TRUE(budget_.next_scan(0));
  EXPECT_EQ(scan({{"a", 4}, {"a", 5}}), (std::vector<uint64_t>{4, 5}));
  // a-4 is set aside again (its room started failing) after the scan passed it.
  budget_.set_aside("a", 0, id(4));
  leave_id("a", 4);
  EXPECT_FALSE(budget_.scan_page_done(0, id(9)));  // a-6 not seen: it was taken over
  EXPECT_TRUE(budget_.spilled("a"));               // but a-4 is still set aside
}

// 3 was waiting for its duplicate check when the head failed and 2 was set
// aside; the head then succeeded. A scan handing 2 back before 3 is set
// aside would queue 2 behind 3: the room waits for 3 to leave.
TEST_F(RoomBudgetTest, AScanHandsNothingBackWhileANewerEntryOfTheRoomIsHeld) {
  admit("a", 1, 3);
  budget_.set_failing("a", true);
  budget_.set_aside("a", 0, id(2));
  leave_id("a", 2);
  budget_.set_failing("a", false);  // 1 delivered
  leave("a", 1);                    // and acked
  ASSERT_EQ(budget_.next_scan(0), id(2).before());
  EXPECT_TRUE(scan({{"a", 2}, {"a", 3}}).empty());  // 3: held, not handed over again
  EXPECT_FALSE(budget_.may_queue("a", id(3)));
  budget_.set_aside("a", 0, id(3));
  leave_id("a", 3);
  EXPECT_FALSE(budget_.scan_page_done(0, id(3)));
  EXPECT_TRUE(budget_.spilled("a"));
  ASSERT_EQ(budget_.next_scan(0), id(2).before());
  EXPECT_EQ(scan({{"a", 2}, {"a", 3}}), (std::vector<uint64_t>{2, 3}));
  EXPECT_FALSE(budget_.spilled("a"));
}

}  // namespace
}  // namespace streamshift
