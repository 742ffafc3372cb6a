// The reading side with fakes for Redis and time: consumer groups (created
// on connect, again on NOGROUP, retried with backoff), XREADGROUP (own
// pending first, then new entries), and scans of set-aside entries.
#include "relay/stream_reader.h"

#include <gtest/gtest.h>

#include "relay/consumer_groups.h"
#include "tests/relay/relay_fakes.h"

namespace streamshift {
namespace {

using fakes::entry_resp;
using fakes::read_resp;

class StreamReaderTest : public fakes::PartsTest {
 protected:
  explicit StreamReaderTest(bool sharded = false) : sharded_(sharded && shard(settings_)) {}
  // Splits events:a and events:b in two shards each.
  static bool shard(RelaySettings& s) {
    s.logical_streams = {"events:a", "events:b"};
    s.stream_shards = 2;
    s.streams = s.shard_layout().physical();
    return true;
  }
  // The groups come up: every XGROUP CREATE answered OK (or BUSYGROUP).
  void groups_up() {
    groups_.create();
    redis_.answer("XGROUP CREATE events:a", resp::status("OK"));
    redis_.answer("XGROUP CREATE events:b",
                  resp::error("BUSYGROUP Consumer Group name already exists"));
  }
  // Reading new entries; room r of stream a read 1-0 .. <last>-0 with a cap
  // of two: 3-0 and after set aside. Its two held ones done, it is scanned.
  void scan_room_r(uint64_t last) {
    groups_up();
    redis_.answer("XREADGROUP", resp::array({}));
    for (uint64_t ms = 1; ms <= last; ++ms) budget_.admit("0:r", 0, StreamId{ms, 0});
    budget_.left("0:r", StreamId{1, 0});
    budget_.left("0:r", StreamId{2, 0});
    reader_.maybe_scan();
  }
  // Keeps what was handed over, as the lifecycle does.
  void keep(StreamReader::Entries& entries, bool scanned) {
    for (auto& e : entries) {
      handed_.push_back(e->id + (scanned ? " scanned" : ""));
      if (!held_.holds(*e)) held_.add(std::move(e));
    }
  }

  bool sharded_;  // before the parts, which read the settings
  RoomBudget budget_{2, settings_.streams.size()};
  std::vector<ConsumerGroups::Result> results_;
  ConsumerGroups groups_{redis_, settings_, metrics_, [this](ConsumerGroups::Result r) {
                           results_.push_back(r);
                           reader_.on_groups(r);
                         }};
  std::vector<std::string> handed_;
  StreamReader reader_{redis_,
                       clock_,
                       settings_,
                       held_,
                       budget_,
                       groups_,
                       [this](StreamReader::Entries& e, bool scanned) { keep(e, scanned); }};
};

TEST_F(StreamReaderTest, GroupsAreCreatedWithMkstreamAndBusygroupMeansTheyExist) {
  groups_.create();
  EXPECT_TRUE(redis_.has("XGROUP CREATE events:a g 0 MKSTREAM"));
  EXPECT_TRUE(redis_.has("XGROUP CREATE events:b g 0 MKSTREAM"));
  groups_.create();  // a round is running: no second one
  EXPECT_EQ(redis_.count("XGROUP"), 2u);
  redis_.answer("XGROUP CREATE events:a", resp::status("OK"));
  EXPECT_FALSE(groups_.ready());
  redis_.answer("XGROUP CREATE events:b",
                resp::error("BUSYGROUP Consumer Group name already exists"));
  EXPECT_TRUE(groups_.ready());
  EXPECT_EQ(results_, (std::vector<ConsumerGroups::Result>{ConsumerGroups::Result::kReady}));
  EXPECT_EQ(metrics_.groups_created.Value(), 1);
  // A reconnect creates them again; they were ready already.
  groups_.create();
  redis_.answer("XGROUP CREATE events:a", resp::error("BUSYGROUP x"));
  redis_.answer("XGROUP CREATE events:b", resp::error("BUSYGROUP x"));
  EXPECT_EQ(results_.back(), ConsumerGroups::Result::kStillReady);
}

TEST_F(StreamReaderTest, AFailedCreationIsTriedAgainAfterABackoff) {
  groups_.create();
  redis_.answer("XGROUP CREATE events:a", resp::status("OK"));
  redis_.fail("XGROUP CREATE events:b", RedisStatus::kTimeout);
  EXPECT_FALSE(groups_.ready());
  EXPECT_EQ(results_.back(), ConsumerGroups::Result::kFailed);
  EXPECT_FALSE(redis_.has("XGROUP"));
  uint64_t due = clock_.next_due() - clock_.now_ms();
  EXPECT_GE(due, 25u);  // 50 ms, jittered into its upper half
  EXPECT_LE(due, 50u);
  clock_.advance(due);
  EXPECT_TRUE(redis_.has("XGROUP CREATE events:a"));
  EXPECT_FALSE(redis_.has("XREADGROUP"));
}

TEST_F(StreamReaderTest, OwnPendingIsReadFirstThenNewEntriesBlocking) {
  groups_up();
  const auto& first = redis_.find("XREADGROUP");
  EXPECT_TRUE(first.on_reader);
  EXPECT_EQ(first.timeout_ms, settings_.redis_timeout_ms);
  EXPECT_TRUE(redis_.has("XREADGROUP GROUP g me COUNT 10 STREAMS events:a events:b 0 0"));
  redis_.answer("XREADGROUP", read_resp("events:b", {entry_resp("5-0", "r1")}));
  EXPECT_EQ(handed_, (std::vector<std::string>{"5-0"}));
  // The next page of the own pending list starts after what came; the
  // budget shrank by what is held.
  EXPECT_TRUE(redis_.has("XREADGROUP GROUP g me COUNT 10 STREAMS events:a events:b 0 5-0"));
  redis_.answer("XREADGROUP", resp::array({}));
  const auto& blocking = redis_.find("XREADGROUP");
  EXPECT_EQ(blocking.timeout_ms, settings_.redis_timeout_ms + settings_.block_ms);
  EXPECT_TRUE(
      redis_.has("XREADGROUP GROUP g me COUNT 10 BLOCK 2000 STREAMS events:a events:b > >"));
  redis_.answer("XREADGROUP", resp::nil_array());  // BLOCK ran out
  EXPECT_TRUE(redis_.has("XREADGROUP GROUP g me COUNT 10 BLOCK 2000"));
}

TEST_F(StreamReaderTest, ReadsAskForNoMoreThanTheBudgetLeaves) {
  RelaySettings small = settings_;
  small.read_count = 3;
  small.concurrency = 0;  // max_held = 2 * 3
  HeldEntries held(small.max_held(), 3);
  StreamReader reader(redis_, clock_, small, held, budget_, groups_,
                      [&](StreamReader::Entries& entries, bool) {
                        for (auto& e : entries) held.add(std::move(e));
                      });
  groups_up();  // the fixture's reader reads too (COUNT 10): left unanswered
  reader.on_groups(ConsumerGroups::Result::kReady);
  EXPECT_TRUE(redis_.has("XREADGROUP GROUP g me COUNT 3 STREAMS"));
  redis_.answer("XREADGROUP GROUP g me COUNT 3",
                read_resp("events:a", {entry_resp("1-0", "a"), entry_resp("2-0", "b"),
                                       entry_resp("3-0", "c"), entry_resp("4-0", "d")}));
  EXPECT_EQ(held.size(), 4u);
  EXPECT_TRUE(redis_.has("XREADGROUP GROUP g me COUNT 2 STREAMS"));  // 6 - 4
  size_t reads = redis_.count("XREADGROUP");
  redis_.answer("XREADGROUP GROUP g me COUNT 2",
                read_resp("events:a", {entry_resp("5-0", "e"), entry_resp("6-0", "f")}));
  EXPECT_EQ(redis_.count("XREADGROUP"), reads);  // full: resumes as entries finish
  held.remove(*held.find("0/1-0"));
  reader.maybe_read();
  EXPECT_TRUE(redis_.has("XREADGROUP GROUP g me COUNT 1 STREAMS"));
}

TEST_F(StreamReaderTest, AFailedReadIsRetriedAfterABackoffAndALostReplyRereadsOwnPending) {
  groups_up();
  redis_.answer("XREADGROUP", resp::array({}));  // own pending empty: now new ones
  redis_.fail("XREADGROUP", RedisStatus::kOverloaded);
  EXPECT_FALSE(redis_.has("XREADGROUP"));
  reader_.maybe_read();  // the retry timer holds reads back
  EXPECT_FALSE(redis_.has("XREADGROUP"));
  clock_.advance(50);
  EXPECT_TRUE(redis_.has("XREADGROUP GROUP g me COUNT 10 BLOCK"));  // still new entries
  // A timeout may have handed us entries we never saw: own pending again.
  redis_.fail("XREADGROUP", RedisStatus::kTimeout);
  uint64_t due = clock_.next_due() - clock_.now_ms();
  EXPECT_GE(due, 50u);  // the second failure in a row: 100 ms, jittered
  EXPECT_LE(due, 100u);
  clock_.advance(due);
  EXPECT_TRUE(redis_.has("XREADGROUP GROUP g me COUNT 10 STREAMS events:a events:b 0 0"));
}

// A claim's lost reply asks for the own pending list while a blocking read
// of new entries is in flight: that read's answer is no page of the own
// pending list, and the list is read from its start after it.
TEST_F(StreamReaderTest, ANewReadAnsweredAfterARecheckIsNotTakenAsTheOwnPendingList) {
  groups_up();
  redis_.answer("XREADGROUP", resp::array({}));
  reader_.recheck_own_pending();
  redis_.answer("XREADGROUP GROUP g me COUNT 10 BLOCK", resp::array({}));
  EXPECT_TRUE(redis_.has("XREADGROUP GROUP g me COUNT 10 STREAMS events:a events:b 0 0"));
  redis_.answer("XREADGROUP", resp::array({}));
  reader_.recheck_own_pending();
  redis_.answer("XREADGROUP GROUP g me COUNT 10 BLOCK",
                fakes::read_resp("events:a", {fakes::entry_resp("5-0", "r")}));
  EXPECT_EQ(handed_, (std::vector<std::string>{"5-0"}));
  EXPECT_TRUE(redis_.has("XREADGROUP GROUP g me COUNT 10 STREAMS events:a events:b 0 0"));
}

TEST_F(StreamReaderTest, NogroupOnAReadCreatesTheGroupsAgainAndReadsOwnPending) {
  groups_up();
  redis_.answer("XREADGROUP", resp::array({}));
  redis_.answer("XREADGROUP", resp::error("NOGROUP No such key 'events:a' or consumer group 'g'"));
  EXPECT_FALSE(groups_.ready());
  EXPECT_FALSE(redis_.has("XREADGROUP"));
  groups_up();
  EXPECT_EQ(results_.back(), ConsumerGroups::Result::kReady);
  EXPECT_TRUE(redis_.has("XREADGROUP GROUP g me COUNT 10 STREAMS events:a events:b 0 0"));
}

TEST_F(StreamReaderTest, NothingIsReadWithoutTheReadingConnectionOrAfterStop) {
  redis_.reader_up = false;
  groups_up();
  EXPECT_FALSE(redis_.has("XREADGROUP"));
  redis_.reader_up = true;
  reader_.maybe_read();  // the connection's ready hook
  ASSERT_TRUE(redis_.has("XREADGROUP"));
  reader_.stop();
  redis_.answer("XREADGROUP", read_resp("events:a", {entry_resp("1-0", "r")}));
  EXPECT_TRUE(handed_.empty());  // stays pending in Redis
  reader_.maybe_read();
  EXPECT_FALSE(redis_.has("XREADGROUP"));
}

TEST_F(StreamReaderTest, SetAsideEntriesComeBackByAScanOnTheCommandsConnection) {
  scan_room_r(4);
  // From the id before the first one set aside.
  const auto& scan = redis_.find("XREADGROUP GROUP g me COUNT 10 STREAMS events:a " +
                                 StreamId{3, 0}.before().to_string());
  EXPECT_FALSE(scan.on_reader);
  redis_.answer("XREADGROUP GROUP g me COUNT 10 STREAMS events:a",
                read_resp("events:a", {entry_resp("3-0", "r"), entry_resp("4-0", "r")}));
  EXPECT_EQ(handed_, (std::vector<std::string>{"3-0 scanned", "4-0 scanned"}));
}

TEST_F(StreamReaderTest, AFailedScanIsTriedAgainLater) {
  scan_room_r(3);
  redis_.fail("XREADGROUP GROUP g me COUNT 10 STREAMS events:a", RedisStatus::kTimeout);
  reader_.maybe_scan();
  EXPECT_FALSE(redis_.has("XREADGROUP GROUP g me COUNT 10 STREAMS events:a"));
  uint64_t due = clock_.next_due() - clock_.now_ms();
  EXPECT_GE(due, 250u);
  EXPECT_LE(due, 500u);
  clock_.advance(due);
  EXPECT_TRUE(redis_.has("XREADGROUP GROUP g me COUNT 10 STREAMS events:a"));
}

// Two logical streams in two shards: one blocking read per shard index, on
// its own connection, each covering shard k of both streams, each with its
// own phase and cursor, each asking for its share of the read count.
class ShardedStreamReaderTest : public StreamReaderTest {
 protected:
  ShardedStreamReaderTest() : StreamReaderTest(/*sharded=*/true) {}
};

TEST_F(ShardedStreamReaderTest, EachShardIndexIsReadOnItsOwnConnection) {
  groups_.create();
  EXPECT_EQ(redis_.count("XGROUP CREATE"), 4u);  // the group on every shard stream
  answer_group_creation();
  const auto& s0 = redis_.find("XREADGROUP GROUP g me COUNT 5 STREAMS events:a:{s0} events:b:{s0}");
  EXPECT_EQ(s0.group, 0u);
  const auto& s1 = redis_.find("XREADGROUP GROUP g me COUNT 5 STREAMS events:a:{s1} events:b:{s1}");
  EXPECT_EQ(s1.group, 1u);
  // Shard 1's pending page ends; shard 0's brings an entry: each moves on alone.
  redis_.answer("XREADGROUP GROUP g me COUNT 5 STREAMS events:a:{s1}", resp::array({}));
  EXPECT_TRUE(redis_.has(
      "XREADGROUP GROUP g me COUNT 5 BLOCK 2000 STREAMS events:a:{s1} events:b:{s1} > >"));
  redis_.answer("XREADGROUP GROUP g me COUNT 5 STREAMS events:a:{s0}",
                read_resp("events:b:{s0}", {entry_resp("7-0", "r")}));
  EXPECT_EQ(handed_, (std::vector<std::string>{"7-0"}));
  EXPECT_TRUE(
      redis_.has("XREADGROUP GROUP g me COUNT 5 STREAMS events:a:{s0} events:b:{s0} 0 7-0"));
  // A lost reply on shard 1 rereads only shard 1's own pending list.
  redis_.fail("XREADGROUP GROUP g me COUNT 5 BLOCK", RedisStatus::kConnectionLost);
  clock_.advance(clock_.next_due() - clock_.now_ms());
  EXPECT_TRUE(redis_.has("XREADGROUP GROUP g me COUNT 5 STREAMS events:a:{s1} events:b:{s1} 0 0"));
  EXPECT_TRUE(
      redis_.has("XREADGROUP GROUP g me COUNT 5 STREAMS events:a:{s0} events:b:{s0} 0 7-0"));
}

class NoStreamsReaderTest : public fakes::PartsTest {};

// No read group at all (the settings refuse an empty STREAMSHIFT_STREAMS):
// nothing is read, and nothing divides by the number of groups.
TEST_F(NoStreamsReaderTest, NothingIsReadAndNothingBreaks) {
  settings_.streams.clear();
  RoomBudget budget{2, 0};
  ConsumerGroups groups{redis_, settings_, metrics_, [](ConsumerGroups::Result) {}};
  StreamReader reader{
      redis_, clock_, settings_, held_, budget, groups, [](StreamReader::Entries&, bool) {}};
  reader.maybe_read();
  reader.on_groups(ConsumerGroups::Result::kFailed);
  reader.on_groups(ConsumerGroups::Result::kReady);
  EXPECT_FALSE(redis_.has("XREADGROUP"));
}

}  // namespace
}  // namespace streamshift
