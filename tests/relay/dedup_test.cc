// De-duplication by event_id: the marks' MGET and the bounded memory of
// event_ids this relay delivered.
#include "relay/dedup.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace streamshift
