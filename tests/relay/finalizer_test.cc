// Acks, delivered marks and dead letters with a fake Redis and clock:
// what is sent, when, and what the lifecycle hears back.
#include "relay/finalizer.h"

#include <gtest/gtest.h>

#include "tests/relay/relay_fakes.h"

namespace streamshift {
namespace {

using fakes::entry_resp;

class FinalizerTest : public fakes::PartsTest {
 protected:
  void SetUp() override {
    groups_.create();
    answer_group_creation();
  }
  RelayEntry* hold(size_t stream, const std::string& id, Finalize how) {
    auto e = fakes::entries(stream, {entry_resp(id, "r")});
    e[0]->finalize = how;
    e[0]->stage = EntryStage::kFinalizing;
    return held_.add(std::move(e[0]));
  }
  std::string done(bool finished) const {
    std::string out;
    for (const auto& [id, f] : done_) {
      if (f == finished) out += (out.empty() ? "" : " ") + id;
    }
    return out;
  }

  Dedup dedup_{redis_, settings_};
  ConsumerGroups groups_{redis_, settings_, metrics_, [](ConsumerGroups::Result) {}};
  std::vector<std::pair<std::string, bool>> done_;
  Finalizer finalizer_{redis_,
                       clock_,
                       settings_,
                       metrics_,
                       held_,
                       dedup_,
                       groups_,
                       [this](RelayEntry* e, bool finished) {
                         done_.emplace_back(e->id, finished);
                         if (finished) held_.remove(*e);
                       }};
};

TEST_F(FinalizerTest, AcksLeaveAtTheEndOfTheLoopTurnOneCommandPerStream) {
  finalizer_.finalize(hold(0, "1-0", Finalize::kAckOnly));
  finalizer_.finalize(hold(1, "2-0", Finalize::kAckOnly));
  finalizer_.finalize(hold(0, "3-0", Finalize::kAckOnly));
  EXPECT_TRUE(redis_.pending().empty());
  clock_.end_turn();
  EXPECT_TRUE(redis_.has("XACK events:a g 1-0 3-0"));
  EXPECT_TRUE(redis_.has("XACK events:b g 2-0"));
  redis_.answer("XACK events:a", resp::integer(2));
  EXPECT_EQ(done(true), "1-0 3-0");
  EXPECT_EQ(held_.size(), 1u);
}

TEST_F(FinalizerTest, ADeliveredEntrysMarkIsSetInTheSameScriptAsTheAck) {
  finalizer_.finalize(hold(0, "1-0", Finalize::kAckDelivered));
  finalizer_.finalize(hold(0, "2-0", Finalize::kAckOnly));  // a duplicate: no mark of its own
  clock_.end_turn();
  const auto& eval = redis_.find("EVAL");
  ASSERT_EQ(eval.args.size(), 9u);
  EXPECT_NE(eval.args[1].find("redis.call('SET', KEYS[i], '1', 'EX', ARGV[2])"), std::string::npos);
  EXPECT_EQ(eval.args[2], "2");  // the stream and one mark
  EXPECT_EQ(eval.args[3], "events:a");
  EXPECT_EQ(eval.args[4], "streamshift:delivered:ev-1-0");
  EXPECT_EQ(eval.args[5], "g");
  EXPECT_EQ(eval.args[6], "300");
  EXPECT_EQ(eval.args[7], "1-0");
  EXPECT_EQ(eval.args[8], "2-0");
}

TEST_F(FinalizerTest, WithoutDedupADeliveredEntryIsOnlyAcked) {
  settings_.dedup_ttl_s = 0;
  finalizer_.finalize(hold(0, "1-0", Finalize::kAckDelivered));
  clock_.end_turn();
  EXPECT_TRUE(redis_.has("XACK events:a g 1-0"));
  EXPECT_FALSE(redis_.has("EVAL"));
}

TEST_F(FinalizerTest, ABigBatchIsSplitSoLuaCanUnpackIt) {
  for (size_t i = 1; i <= Finalizer::kMaxIdsPerAck + 5; ++i)
    finalizer_.finalize(hold(0, std::to_string(i) + "-0", Finalize::kAckDelivered));
  finalizer_.flush();  // at once, as before the connection closes
  ASSERT_EQ(redis_.pending().size(), 2u);
  EXPECT_EQ(redis_.pending()[0].args[2], std::to_string(Finalizer::kMaxIdsPerAck + 1));
  EXPECT_EQ(redis_.pending()[1].args[2], "6");
}

TEST_F(FinalizerTest, AFailedAckIsReportedAndNogroupFinishesTheEntryAndRecreatesTheGroup) {
  finalizer_.finalize(hold(0, "1-0", Finalize::kAckOnly));
  finalizer_.finalize(hold(1, "2-0", Finalize::kAckOnly));
  clock_.end_turn();
  redis_.fail("XACK events:a", RedisStatus::kTimeout);
  EXPECT_EQ(done(false), "1-0");
  redis_.answer("XACK events:b", resp::error("ERR Error running script: NOGROUP No such key"));
  EXPECT_EQ(done(true), "2-0");
  EXPECT_FALSE(groups_.ready());
  EXPECT_TRUE(redis_.has("XGROUP CREATE events:a"));
}

TEST_F(FinalizerTest, ADeadLetterIsWrittenFirstCountedOnceWrittenThenAcked) {
  RelayEntry* e = hold(1, "7-0", Finalize::kDeadLetter);
  e->dead_letter_reason = DeadLetterReason::kPermanentStatus;
  e->last_error = "HTTP 404";
  e->attempts = 1;
  finalizer_.finalize(e);
  const auto& xadd = redis_.find("XADD events:dlq MAXLEN ~ 100000 * v 1 event_id ev-7-0");
  std::vector<std::string> tail(xadd.args.end() - 14, xadd.args.end() - 2);
  EXPECT_EQ(tail,
            (std::vector<std::string>{"dlq_error", "HTTP 404", "dlq_reason", "permanent_status",
                                      "dlq_deliveries", "1", "dlq_source_stream", "events:b",
                                      "dlq_source_id", "7-0", "dlq_consumer", "me"}));
  EXPECT_EQ(xadd.args[xadd.args.size() - 2], "dlq_ts_ms");
  // Not written: reported failed, not counted, not acked.
  redis_.fail("XADD", RedisStatus::kConnectionLost);
  EXPECT_EQ(done(false), "7-0");
  EXPECT_EQ(metrics_.dead_lettered(DeadLetterReason::kPermanentStatus).Value(), 0);
  clock_.end_turn();
  EXPECT_FALSE(redis_.has("XACK"));
  // Tried again: written, counted, then acked alone.
  finalizer_.finalize(e);
  redis_.answer("XADD", resp::bulk("99-0"));
  EXPECT_EQ(metrics_.dead_lettered(DeadLetterReason::kPermanentStatus).Value(), 1);
  EXPECT_EQ(e->finalize, Finalize::kAckOnly);
  clock_.end_turn();
  redis_.fail("XACK events:b g 7-0", RedisStatus::kTimeout);
  finalizer_.finalize(e);  // the lifecycle's retry: the ack only
  clock_.end_turn();
  EXPECT_EQ(redis_.count("XADD"), 2u);
  redis_.answer("XACK events:b g 7-0", resp::integer(1));
  EXPECT_EQ(done(true), "7-0");
  EXPECT_EQ(metrics_.dead_lettered(DeadLetterReason::kPermanentStatus).Value(), 1);
}

}  // namespace
}  // namespace streamshift
