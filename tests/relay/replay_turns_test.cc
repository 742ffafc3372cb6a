// Turns in a replay's page: the relay's lanes (one entry per room at a time,
// in stream order, or with ordering none entries in parallel), at most the
// concurrency at once, retries first once due.
#include "relay/replay_turns.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace streamshift {
namespace {

class Page {
 public:
  RelayEntry* add(std::string id, std::string_view room) {
    auto e = std::make_unique<RelayEntry>();
    e->id = std::move(id);
    e->event.event_id = e->id;
    rooms_.push_back(std::make_unique<std::string>(room));
    e->event.room_id = *rooms_.back();
    entries_.push_back(std::move(e));
    return entries_.back().get();
  }

 private:
  std::vector<std::unique_ptr<std::string>> rooms_;
  std::vector<std::unique_ptr<RelayEntry>> entries_;
};

std::string id_of(const RelayEntry* e) {
  return e == nullptr ? "none" : e->id;
}

TEST(ReplayTurns, OneEntryPerRoomAtATimeInStreamOrder) {
  Page page;
  ReplayTurns turns{8, RelayOrdering::kRoom};
  RelayEntry* a1 = page.add("a1", "a");
  RelayEntry* b1 = page.add("b1", "b");
  RelayEntry* a2 = page.add("a2", "a");
  page.add("a3", "a");
  for (RelayEntry* e : {a1, b1, a2}) turns.add(e);
  EXPECT_EQ(id_of(turns.next()), "a1");
  EXPECT_EQ(id_of(turns.next()), "b1");
  EXPECT_FALSE(turns.startable());  // a2 waits for a1
  EXPECT_EQ(turns.next(), nullptr);
  turns.finished(b1);  // room b has nothing more
  EXPECT_FALSE(turns.startable());
  turns.finished(a1);
  EXPECT_EQ(id_of(turns.next()), "a2");
  turns.finished(a2);
  EXPECT_FALSE(turns.startable());
}

TEST(ReplayTurns, ARetryKeepsItsRoomsTurnAndGoesFirstOnceDue) {
  Page page;
  ReplayTurns turns{8, RelayOrdering::kRoom};
  RelayEntry* a1 = page.add("a1", "a");
  RelayEntry* a2 = page.add("a2", "a");
  RelayEntry* b1 = page.add("b1", "b");
  RelayEntry* c1 = page.add("c1", "c");
  for (RelayEntry* e : {a1, a2, b1, c1}) turns.add(e);
  EXPECT_EQ(id_of(turns.next()), "a1");
  turns.retry_at(a1, 1100);
  EXPECT_EQ(turns.next_due(), 1100u);
  turns.release_due(1099);
  EXPECT_EQ(id_of(turns.next()), "b1");  // a2 still waits behind a1
  turns.release_due(1100);
  EXPECT_EQ(turns.next_due(), std::nullopt);
  EXPECT_EQ(id_of(turns.next()), "a1");  // ahead of room c
  turns.finished(a1);
  EXPECT_EQ(id_of(turns.next()), "c1");
  EXPECT_EQ(id_of(turns.next()), "a2");
  turns.clear();
  EXPECT_FALSE(turns.startable());
}

TEST(ReplayTurns, WithOrderingNoneARoomsEntriesStartTogetherUpToTheConcurrency) {
  Page page;
  ReplayTurns turns{2, RelayOrdering::kNone};
  RelayEntry* a1 = page.add("a1", "a");
  RelayEntry* a2 = page.add("a2", "a");
  RelayEntry* a3 = page.add("a3", "a");
  for (RelayEntry* e : {a1, a2, a3}) turns.add(e);
  EXPECT_EQ(id_of(turns.next()), "a1");
  EXPECT_EQ(id_of(turns.next()), "a2");  // the same room, at once
  EXPECT_FALSE(turns.startable());       // concurrency 2
  turns.retry_at(a1, 10);                // keeps its slot
  EXPECT_FALSE(turns.startable());
  turns.finished(a2);
  EXPECT_EQ(id_of(turns.next()), "a3");  // ahead of a1, which waits to retry
  turns.release_due(10);
  EXPECT_EQ(id_of(turns.next()), "a1");
  turns.finished(a1);
  turns.finished(a3);
  EXPECT_FALSE(turns.startable());
}

TEST(ReplayTurns, NoMoreLanesThanTheConcurrencyAtOnce) {
  Page page;
  ReplayTurns turns{1, RelayOrdering::kRoom};
  RelayEntry* a1 = page.add("a1", "a");
  RelayEntry* b1 = page.add("b1", "b");
  for (RelayEntry* e : {a1, b1}) turns.add(e);
  EXPECT_EQ(id_of(turns.next()), "a1");
  EXPECT_FALSE(turns.startable());
  turns.finished(a1);
  EXPECT_EQ(id_of(turns.next()), "b1");
}

}  // namespace
}  // namespace streamshift
