// De-duplication by event_id: the marks' MGET and the bounded memory of
// event_ids this relay delivered.
#include "relay/dedup.h"

#include <gtest/gtest.h>

#include "core/redis_key_slot.h"
#include "tests/relay/relay_fakes.h"

namespace streamshift {
namespace {

class DedupTest : public fakes::PartsTest {
 protected:
  Dedup dedup_{redis_, settings_};
};

TEST_F(DedupTest, TheLastDeliveredEventIdsAreRememberedUpToTheBound) {
  dedup_.remember("ev-0");
  EXPECT_TRUE(dedup_.recently_delivered("ev-0"));
  EXPECT_FALSE(dedup_.recently_delivered("ev-1"));
  for (size_t i = 1; i < Dedup::kRecentlyDelivered; ++i) dedup_.remember("ev-" + std::to_string(i));
  dedup_.remember("ev-1");  // already known: no second place in the order
  EXPECT_TRUE(dedup_.recently_delivered("ev-0"));
  dedup_.remember("ev-new");  // one over the bound: the oldest goes
  EXPECT_FALSE(dedup_.recently_delivered("ev-0"));
  EXPECT_TRUE(dedup_.recently_delivered("ev-1"));
  EXPECT_TRUE(dedup_.recently_delivered("ev-new"));
}

TEST_F(DedupTest, OffWhenTheTtlIsZero) {
  settings_.dedup_ttl_s = 0;
  dedup_.remember("ev-0");
  EXPECT_FALSE(dedup_.enabled());
  EXPECT_FALSE(dedup_.recently_delivered("ev-0"));
}

TEST_F(DedupTest, OneMgetPerBatchAndAnAnswerOfTheWrongShapeMarksNothing) {
  auto batch =
      fakes::entries(0, {fakes::entry_resp("1-0", "r", "a"), fakes::entry_resp("2-0", "r", "b")});
  std::vector<RelayEntry*> entries = {batch[0].get(), batch[1].get()};
  std::vector<std::vector<bool>> answers;
  auto record = [&](const std::vector<bool>& marked) { answers.push_back(marked); };
  dedup_.check(entries, record);
  EXPECT_TRUE(redis_.has("MGET streamshift:delivered:a streamshift:delivered:b"));
  redis_.answer("MGET", resp::array({resp::nil(), resp::bulk("1")}));
  dedup_.check(entries, record);
  redis_.answer("MGET", resp::array({resp::bulk("1")}));  // one value for two keys
  EXPECT_EQ(answers, (std::vector<std::vector<bool>>{{false, true}, {false, false}}));
}

TEST_F(DedupTest, UnshardedMarksKeepTheirFormat) {
  EXPECT_EQ(dedup_.mark_key(1, "ev"), "streamshift:delivered:ev");
}

TEST_F(DedupTest, ShardedMarksCarryTheirStreamsHashTagAndAreReadOneMgetPerTag) {
  settings_.logical_streams = {"events:a"};
  settings_.stream_shards = 2;
  settings_.streams = settings_.shard_layout().physical();
  EXPECT_EQ(dedup_.mark_key(1, "ev"), "streamshift:delivered:{s1}:ev");
  EXPECT_EQ(redis_key_slot(dedup_.mark_key(1, "ev")), redis_key_slot(settings_.streams[1]));
  auto s0 = fakes::entries(0, {fakes::entry_resp("1-0", "r", "a")});
  auto s1 = fakes::entries(1, {fakes::entry_resp("1-0", "q", "b")});
  auto s0b = fakes::entries(0, {fakes::entry_resp("2-0", "r", "c")});
  std::vector<RelayEntry*> entries = {s0[0].get(), s1[0].get(), s0b[0].get()};
  std::vector<std::vector<bool>> answers;
  dedup_.check(entries, [&](const std::vector<bool>& marked) { answers.push_back(marked); });
  EXPECT_TRUE(redis_.has("MGET streamshift:delivered:{s0}:a streamshift:delivered:{s0}:c"));
  EXPECT_TRUE(redis_.has("MGET streamshift:delivered:{s1}:b"));
  redis_.answer("MGET streamshift:delivered:{s1}", resp::array({resp::bulk("1")}));
  EXPECT_TRUE(answers.empty());  // not before every tag has answered
  redis_.answer("MGET", resp::array({resp::nil(), resp::bulk("1")}));
  EXPECT_EQ(answers, (std::vector<std::vector<bool>>{{false, true, true}}));
}

}  // namespace
}  // namespace streamshift
