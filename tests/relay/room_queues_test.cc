// Per-room FIFO scheduling with a concurrency cap.
#include "relay/room_queues.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

namespace streamshift {
namespace {

class RoomQueuesTest : public ::testing::Test {
 protected:
  // event_id "ev-<id>" unless given.
  RelayEntry* entry(const std::string& room, const std::string& id, size_t stream = 0,
                    const std::string& event_id = "") {
    entries_.emplace_back();
    RelayEntry& e = entries_.back();
    e.fields.reserve(2);  // the views below stay valid
    e.fields.emplace_back("room_id", room);
    e.event.room_id = e.fields.back().second;
    e.fields.emplace_back("event_id", event_id.empty() ? "ev-" + id : event_id);
    e.event.event_id = e.fields.back().second;
    e.id = id;
    e.stream_index = stream;
    return &e;
  }
  std::deque<RelayEntry> entries_;
};

TEST_F(RoomQueuesTest, OneRoomIsServedInOrderOneAtATime) {
  RoomQueues q(4, RelayOrdering::kRoom);
  RelayEntry* a = entry("r", "1");
  RelayEntry* b = entry("r", "2");
  q.push(a);
  q.push(b);
  EXPECT_EQ(q.next_ready(), a);
  EXPECT_EQ(q.next_ready(), nullptr);  // b waits for a
  q.finish(a);
  EXPECT_EQ(q.next_ready(), b);
  q.finish(b);
  EXPECT_EQ(q.queued(), 0u);
  EXPECT_EQ(q.active(), 0u);
}

TEST_F(RoomQueuesTest, RoomsRunInParallelUpToTheCap) {
  RoomQueues q(2, RelayOrdering::kRoom);
  RelayEntry* a = entry("a", "1");
  RelayEntry* b = entry("b", "2");
  RelayEntry* c = entry("c", "3");
  q.push(a);
  q.push(b);
  q.push(c);
  EXPECT_EQ(q.next_ready(), a);
  EXPECT_EQ(q.next_ready(), b);
  EXPECT_EQ(q.next_ready(), nullptr);  // cap reached
  EXPECT_EQ(q.active(), 2u);
  q.finish(b);
  EXPECT_EQ(q.next_ready(), c);
}

TEST_F(RoomQueuesTest, TheSameRoomInAnotherStreamIsAnotherQueue) {
  RoomQueues q(4, RelayOrdering::kRoom);
  RelayEntry* a = entry("r", "1", 0);
  RelayEntry* b = entry("r", "1", 1);
  q.push(a);
  q.push(b);
  EXPECT_EQ(q.next_ready(), a);
  EXPECT_EQ(q.next_ready(), b);
}

TEST_F(RoomQueuesTest, FinishingAnEntryThatIsNotAnActiveHeadChangesNothing) {
  RoomQueues q(4, RelayOrdering::kRoom);
  RelayEntry* a = entry("r", "1");
  RelayEntry* b = entry("r", "2");
  q.push(a);
  q.push(b);
  q.finish(b);  // not started
  EXPECT_EQ(q.queued(), 2u);
  EXPECT_EQ(q.next_ready(), a);
  q.finish(b);  // not the head
  EXPECT_EQ(q.active(), 1u);
}

TEST_F(RoomQueuesTest, DropWaitingKeepsActiveHeadsOnly) {
  RoomQueues q(1, RelayOrdering::kRoom);
  RelayEntry* a = entry("a", "1");
  RelayEntry* a2 = entry("a", "2");
  RelayEntry* b = entry("b", "3");
  q.push(a);
  q.push(a2);
  q.push(b);
  EXPECT_EQ(q.next_ready(), a);
  std::vector<RelayEntry*> dropped;
  q.drop_waiting([&](RelayEntry* e) { dropped.push_back(e); });
  EXPECT_EQ(dropped.size(), 2u);
  EXPECT_FALSE(a2->in_room);
  EXPECT_FALSE(b->in_room);
  EXPECT_TRUE(a->in_room);
  EXPECT_EQ(q.queued(), 1u);
  q.finish(a);
  EXPECT_EQ(q.next_ready(), nullptr);
  EXPECT_EQ(q.queued(), 0u);
}

TEST_F(RoomQueuesTest, EntriesBehindAHeadAreDroppedNewestFirst) {
  RoomQueues q(4, RelayOrdering::kRoom);
  RelayEntry* a = entry("r", "1");
  RelayEntry* b = entry("r", "2");
  RelayEntry* c = entry("r", "3");
  RelayEntry* other = entry("o", "4");
  for (RelayEntry* e : {a, b, c, other}) q.push(e);
  EXPECT_EQ(q.next_ready(), a);
  std::vector<RelayEntry*> dropped;
  q.drop_behind(b, [&](RelayEntry* e) { dropped.push_back(e); });  // not a head: nothing
  EXPECT_TRUE(dropped.empty());
  q.drop_behind(a, [&](RelayEntry* e) { dropped.push_back(e); });
  EXPECT_EQ(dropped, (std::vector<RelayEntry*>{c, b}));
  EXPECT_FALSE(b->in_room);
  EXPECT_EQ(q.queued(), 2u);  // a and the other room's entry
  q.finish(a);
  EXPECT_EQ(q.next_ready(), other);
  EXPECT_EQ(q.next_ready(), nullptr);
}

TEST_F(RoomQueuesTest, WithoutOrderingEntriesOfOneRoomRunInParallelUpToTheCap) {
  RoomQueues q(2, RelayOrdering::kNone);
  RelayEntry* a = entry("r", "1");
  RelayEntry* b = entry("r", "2");
  RelayEntry* c = entry("r", "3");
  for (RelayEntry* e : {a, b, c}) q.push(e);
  EXPECT_EQ(q.next_ready(), a);
  EXPECT_EQ(q.next_ready(), b);        // same room, not waiting for a
  EXPECT_EQ(q.next_ready(), nullptr);  // the cap: two slots
  EXPECT_EQ(q.active(), 2u);
  q.finish(b);  // finishing out of order frees a slot
  EXPECT_EQ(q.next_ready(), c);
  q.finish(a);
  q.finish(c);
  EXPECT_EQ(q.queued(), 0u);
  EXPECT_EQ(q.active(), 0u);
}

TEST_F(RoomQueuesTest, WithoutOrderingCopiesOfOneEventStillGoOneAtATime) {
  RoomQueues q(4, RelayOrdering::kNone);
  RelayEntry* a = entry("r", "1", 0, "ev-x");
  RelayEntry* copy = entry("s", "2", 1, "ev-x");  // another room and stream, same event_id
  RelayEntry* other = entry("r", "3");
  for (RelayEntry* e : {a, copy, other}) q.push(e);
  EXPECT_EQ(q.next_ready(), a);
  EXPECT_EQ(q.next_ready(), other);
  EXPECT_EQ(q.next_ready(), nullptr);  // the copy waits for a
  std::vector<RelayEntry*> dropped;
  q.drop_waiting([&](RelayEntry* e) { dropped.push_back(e); });
  EXPECT_EQ(dropped, (std::vector<RelayEntry*>{copy}));
  q.finish(a);
  q.finish(other);
  EXPECT_EQ(q.queued(), 0u);
}

}  // namespace
}  // namespace streamshift
