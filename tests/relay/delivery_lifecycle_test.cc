// An entry's stages with fakes for the target, the finalizer, Redis (the
// dedup MGET) and time: per-room order, concurrency, retries with backoff,
// dead letters, duplicates, and what draining leaves pending.
#include "relay/delivery_lifecycle.h"

#include <gtest/gtest.h>

#include "tests/relay/relay_fakes.h"

namespace streamshift {
namespace {

using fakes::entry_resp;

// Records what the lifecycle asks to finalize; the test answers.
struct FakeFinalizer final : EntryFinalizer {
  void finalize(RelayEntry* e) override {
    EXPECT_EQ(e->stage, EntryStage::kFinalizing);
    calls.emplace_back(e->id, e->finalize);
  }
  void flush() override { ++flushes; }
  std::vector<std::pair<std::string, Finalize>> calls;
  int flushes = 0;
};

class DeliveryLifecycleTest : public fakes::PartsTest {
 protected:
  explicit DeliveryLifecycleTest(RelayOrdering ordering = RelayOrdering::kRoom)
      : ordering_(settings_.ordering = ordering) {
    settings_.dedup_ttl_s = 0;
  }

  void read(size_t stream, const std::vector<std::string>& entry_resps, bool scanned = false) {
    StreamReader::Entries e = fakes::entries(stream, entry_resps);
    lifecycle_.accept(e, scanned);
  }
  RelayEntry* held(const std::string& key) { return held_.find(key); }
  // The finalizer's "done" for the entry with `id` (stream a).
  void finalized(const std::string& id, bool finished = true) {
    lifecycle_.on_finalized(held("0/" + id), finished);
  }
  std::string finalized_ids(Finalize how) const {
    std::string out;
    for (const auto& [id, f] : finalizer_.calls)
      if (f == how) out += (out.empty() ? "" : " ") + id;
    return out;
  }
  size_t in_flight(const std::string& id) const {
    size_t n = 0;
    for (const auto& r : target_.requests())
      n += r->head.find("X-Event-Id: ev-" + id) != std::string::npos;
    return n;
  }

  RelayOrdering ordering_;  // first: set before the lifecycle reads it
  fakes::FakeTarget target_;
  FakeFinalizer finalizer_;
  RoomBudget budget_{RelaySettings::kRoomMaxHeld, settings_.streams.size()};
  Dedup dedup_{redis_, settings_};
  int left_ = 0;
  int room_moved_ = 0;
  DeliveryLifecycle lifecycle_{clock_,
                               target_,
                               finalizer_,
                               settings_,
                               metrics_,
                               held_,
                               budget_,
                               dedup_,
                               DeliveryLifecycle::Hooks{.left = [this] { ++left_; },
                                                        .room_moved = [this] { ++room_moved_; }}};
};

TEST_F(DeliveryLifecycleTest, ARoomDeliversInStreamOrderOneAtATimeWhileRoomsRunInParallel) {
  read(0, {entry_resp("1-0", "r"), entry_resp("2-0", "r"), entry_resp("3-0", "s")});
  ASSERT_EQ(target_.requests().size(), 2u);  // r's head and s's head
  EXPECT_EQ(in_flight("1-0"), 1u);
  EXPECT_EQ(in_flight("3-0"), 1u);
  EXPECT_EQ(held("0/2-0")->stage, EntryStage::kQueued);
  EXPECT_EQ(target_.requests()[0]->head,
            "POST /api/x HTTP/1.1\r\nHost: signalr\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\nX-Event-Id: ev-1-0\r\nX-Event-Transport: redis_streams\r\n\r\n");
  EXPECT_EQ(target_.requests()[0]->borrowed_body, "{}");
  target_.answer("ev-1-0", 200);
  EXPECT_EQ(finalized_ids(Finalize::kAckDelivered), "1-0");
  EXPECT_EQ(in_flight("2-0"), 1u);  // r's next
  EXPECT_EQ(metrics_.attempts(DeliveryOutcome::kDelivered).Value(), 1);
  EXPECT_EQ(metrics_.in_flight.Value(), 2);
  finalized("1-0");
  EXPECT_EQ(held_.size(), 2u);
  EXPECT_EQ(left_, 1);
  EXPECT_EQ(metrics_.held.Value(), 2);
}

// `streamshift dlq redrive` keeps the original ts_ms (2023 here): its age
// is not an end-to-end latency.
TEST_F(DeliveryLifecycleTest, ARedrivenEntryIsDeliveredWithoutALatencySample) {
  read(0, {entry_resp("1-0", "r"), entry_resp("2-0", "s", "", {"redriven_from", "1699-0"})});
  target_.answer("ev-2-0", 200);
  target_.answer("ev-1-0", 200);
  EXPECT_EQ(finalized_ids(Finalize::kAckDelivered), "2-0 1-0");
  EXPECT_EQ(metrics_.delivery_duration("chat").Collect().sample_count, 1u) << "only 1-0's latency";
}

TEST_F(DeliveryLifecycleTest, NoMoreRoomsThanTheConcurrencyDeliverAtOnce) {
  read(0, {entry_resp("1-0", "a"), entry_resp("2-0", "b"), entry_resp("3-0", "c"),
           entry_resp("4-0", "d"), entry_resp("5-0", "e")});
  EXPECT_EQ(target_.requests().size(), 4u);
  EXPECT_EQ(in_flight("5-0"), 0u);
  target_.answer("ev-2-0", 204);
  EXPECT_EQ(in_flight("5-0"), 1u);
}

TEST_F(DeliveryLifecycleTest, ARetryableFailureBacksOffAndTheRoomKeepsOnlyItsHead) {
  read(0, {entry_resp("1-0", "r"), entry_resp("2-0", "r"), entry_resp("3-0", "r")});
  target_.answer("ev-1-0", 503);
  RelayEntry* head = held("0/1-0");
  EXPECT_EQ(head->stage, EntryStage::kBackoff);
  EXPECT_EQ(head->last_error, "HTTP 503");
  EXPECT_EQ(held("0/2-0"), nullptr);  // set aside: pending in Redis, out of memory
  EXPECT_EQ(held("0/3-0"), nullptr);
  EXPECT_TRUE(budget_.spilled("0:r"));
  EXPECT_EQ(metrics_.released.Value(), 2);
  EXPECT_EQ(metrics_.retries.Value(), 1);
  uint64_t due = clock_.next_due() - clock_.now_ms();
  EXPECT_GE(due, 50u);  // RETRY_INITIAL_MS 100, jittered into its upper half
  EXPECT_LE(due, 100u);
  clock_.advance(due - 1);
  EXPECT_TRUE(target_.requests().empty());
  clock_.advance(1);
  EXPECT_EQ(in_flight("1-0"), 1u);
  EXPECT_EQ(head->attempts, 2);
  target_.answer("ev-1-0", 0, UpstreamError::kTimeout);
  due = clock_.next_due() - clock_.now_ms();
  EXPECT_GE(due, 100u);  // doubled
  EXPECT_LE(due, 200u);
}

TEST_F(DeliveryLifecycleTest, APermanentAnswerOrTheLastAttemptIsDeadLettered) {
  read(0, {entry_resp("1-0", "r"), entry_resp("2-0", "s")});
  target_.answer("ev-1-0", 404);
  EXPECT_EQ(finalized_ids(Finalize::kDeadLetter), "1-0");
  EXPECT_EQ(held("0/1-0")->dead_letter_reason, DeadLetterReason::kPermanentStatus);
  EXPECT_EQ(held("0/1-0")->last_error, "HTTP 404");
  for (int attempt = 1; attempt <= 3; ++attempt) {
    target_.answer("ev-2-0", 500);
    clock_.advance(1000);
  }
  EXPECT_EQ(finalized_ids(Finalize::kDeadLetter), "1-0 2-0");
  EXPECT_EQ(held("0/2-0")->dead_letter_reason, DeadLetterReason::kMaxDeliveries);
  EXPECT_EQ(held("0/2-0")->last_error, "HTTP 500 after 3 attempts");
  EXPECT_EQ(target_.sent_count(), 4u);
}

TEST_F(DeliveryLifecycleTest, MalformedEntriesAreDeadLetteredAndDeletedOnesAckedAsLost) {
  std::string malformed =
      resp::array({resp::bulk("1-0"), resp::bulks({"v", "1", "event_id", "x"})});
  std::string deleted = resp::array({resp::bulk("2-0"), resp::nil_array()});
  read(0, {malformed, deleted});
  EXPECT_EQ(finalized_ids(Finalize::kDeadLetter), "1-0");
  EXPECT_EQ(held("0/1-0")->dead_letter_reason, DeadLetterReason::kMalformed);
  EXPECT_EQ(held("0/1-0")->last_error, "missing field event_type");
  EXPECT_EQ(finalized_ids(Finalize::kAckOnly), "2-0");
  EXPECT_EQ(metrics_.lost_trimmed.Value(), 1);
  EXPECT_EQ(target_.sent_count(), 0u);
}

TEST_F(DeliveryLifecycleTest, MarkedEntriesAreAckedWithoutDeliveryAndUnknownOnesDelivered) {
  settings_.dedup_ttl_s = 300;
  read(0, {entry_resp("1-0", "r", "ev-a"), entry_resp("2-0", "s", "ev-b")});
  EXPECT_TRUE(redis_.has("MGET streamshift:delivered:ev-a streamshift:delivered:ev-b"));
  EXPECT_EQ(held("0/1-0")->stage, EntryStage::kChecking);
  EXPECT_EQ(target_.sent_count(), 0u);
  redis_.answer("MGET", resp::array({resp::bulk("1"), resp::nil()}));
  EXPECT_EQ(finalized_ids(Finalize::kAckOnly), "1-0");
  EXPECT_EQ(metrics_.duplicates_dropped.Value(), 1);
  EXPECT_EQ(target_.sent_count(), 1u);
  read(0, {entry_resp("3-0", "t", "ev-c")});
  redis_.fail("MGET", RedisStatus::kTimeout);  // a duplicate beats a loss
  EXPECT_EQ(target_.sent_count(), 2u);
}

TEST_F(DeliveryLifecycleTest, ACopyOfAnEventJustDeliveredHereIsDroppedBeforeItsMarkIsWritten) {
  settings_.dedup_ttl_s = 300;
  read(0, {entry_resp("1-0", "r", "ev-a"), entry_resp("2-0", "r", "ev-a")});
  redis_.answer("MGET", resp::array({resp::nil(), resp::nil()}));
  target_.answer("ev-a", 200);
  EXPECT_EQ(finalized_ids(Finalize::kAckDelivered), "1-0");
  EXPECT_EQ(finalized_ids(Finalize::kAckOnly), "2-0");
  EXPECT_EQ(target_.sent_count(), 1u);
}

TEST_F(DeliveryLifecycleTest, AnEntryAlreadyHeldOrOverItsRoomsShareIsNotTakenAgain) {
  read(0, {entry_resp("1-0", "r")});
  read(0, {entry_resp("1-0", "r")});  // read, then claimed
  EXPECT_EQ(target_.sent_count(), 1u);
  std::vector<std::string> many;
  for (int i = 2; i <= 20; ++i) many.push_back(entry_resp(std::to_string(i) + "-0", "r"));
  read(0, many);
  EXPECT_EQ(held_.size(), RelaySettings::kRoomMaxHeld);
  EXPECT_EQ(metrics_.released.Value(), 20 - RelaySettings::kRoomMaxHeld);
}

TEST_F(DeliveryLifecycleTest, AFailedAckIsTriedAgainAfterABackoff) {
  read(0, {entry_resp("1-0", "r")});
  target_.answer("ev-1-0", 200);
  finalized("1-0", false);
  EXPECT_EQ(held("0/1-0")->stage, EntryStage::kFinalizeBackoff);
  uint64_t due = clock_.next_due() - clock_.now_ms();
  EXPECT_GE(due, 100u);
  EXPECT_LE(due, 200u);
  clock_.advance(due);
  EXPECT_EQ(finalizer_.calls.size(), 2u);
  EXPECT_EQ(finalizer_.calls.back().second, Finalize::kAckDelivered);
  EXPECT_EQ(held("0/1-0")->stage, EntryStage::kFinalizing);
}

TEST_F(DeliveryLifecycleTest, DrainingReleasesWhatWaitsAndLetsDeliveriesInFlightFinish) {
  read(0, {entry_resp("1-0", "r"), entry_resp("2-0", "r"), entry_resp("3-0", "s")});
  target_.answer("ev-3-0", 503);  // s waits for a retry
  lifecycle_.drain();
  EXPECT_EQ(held_.size(), 1u);  // 2-0 queued and 3-0 in backoff: left pending
  EXPECT_FALSE(lifecycle_.settled());
  clock_.advance(1000);
  EXPECT_EQ(target_.sent_count(), 2u);  // no retry while draining
  target_.answer("ev-1-0", 200);
  EXPECT_EQ(target_.sent_count(), 2u);  // nor the room's next
  EXPECT_FALSE(lifecycle_.settled());   // its ack is under way
  finalized("1-0", false);
  EXPECT_TRUE(lifecycle_.settled());  // only acks waiting to be retried
  lifecycle_.close();
  clock_.advance(1000);
  EXPECT_EQ(finalizer_.calls.size(), 1u);  // retries dropped when closing
}

TEST_F(DeliveryLifecycleTest, WhileDrainingARetryableFailureOrTheTargetsShutdownReleases) {
  read(0, {entry_resp("1-0", "r"), entry_resp("2-0", "s")});
  lifecycle_.drain();
  target_.answer("ev-1-0", 503);
  EXPECT_EQ(held("0/1-0"), nullptr);
  target_.shutdown([] {});
  EXPECT_EQ(held_.size(), 0u);
  EXPECT_TRUE(finalizer_.calls.empty());
  EXPECT_EQ(metrics_.in_flight.Value(), 0);
}

TEST_F(DeliveryLifecycleTest, WhenClosingAFailedAckReleasesItsEntry) {
  read(0, {entry_resp("1-0", "r")});
  target_.answer("ev-1-0", 200);
  lifecycle_.drain();
  lifecycle_.close();
  finalized("1-0", false);
  EXPECT_EQ(held_.size(), 0u);
}

// STREAMSHIFT_RELAY_ORDERING=none.
class UnorderedDeliveryTest : public DeliveryLifecycleTest {
 protected:
  UnorderedDeliveryTest() : DeliveryLifecycleTest(RelayOrdering::kNone) {}
};

TEST_F(UnorderedDeliveryTest, EntriesOfOneRoomAreInFlightAtOnceUpToTheConcurrency) {
  read(0, {entry_resp("1-0", "r"), entry_resp("2-0", "r"), entry_resp("3-0", "r"),
           entry_resp("4-0", "r"), entry_resp("5-0", "r")});
  EXPECT_EQ(target_.requests().size(), 4u);  // CONCURRENCY 4, one room
  EXPECT_EQ(metrics_.in_flight.Value(), 4);
  EXPECT_EQ(held("0/5-0")->stage, EntryStage::kQueued);
  target_.answer("ev-3-0", 200);  // any of them finishing frees a slot
  EXPECT_EQ(in_flight("5-0"), 1u);
  EXPECT_EQ(finalized_ids(Finalize::kAckDelivered), "3-0");
}

// The per-room cap (kRoomMaxHeld, 16) is not a per-room concurrency cap
// with ordering none: one hot room fills every slot.
TEST_F(UnorderedDeliveryTest, OneRoomFillsEveryConcurrencySlotWithNothingSetAside) {
  lifecycle_.set_concurrency(40);
  std::vector<std::string> resps;
  for (int i = 1; i <= 50; ++i) resps.push_back(entry_resp(std::to_string(i) + "-0", "r"));
  read(0, resps);
  EXPECT_EQ(target_.requests().size(), 40u);
  EXPECT_EQ(metrics_.released.Value(), 0) << "nothing set aside";
  EXPECT_FALSE(budget_.spilled("0:r"));
  EXPECT_EQ(held_.size(), 50u);
  EXPECT_EQ(held("0/50-0")->stage, EntryStage::kQueued);
  target_.answer("ev-7-0", 200);
  EXPECT_EQ(in_flight("41-0"), 1u);
}

TEST_F(UnorderedDeliveryTest, ARetryOfOneEntryDoesNotHoldItsRoomBack) {
  read(0, {entry_resp("1-0", "r"), entry_resp("2-0", "r")});
  target_.answer("ev-1-0", 503);
  RelayEntry* failed = held("0/1-0");
  EXPECT_EQ(failed->stage, EntryStage::kBackoff);
  EXPECT_EQ(held("0/2-0")->stage, EntryStage::kDelivering);  // not set aside
  EXPECT_FALSE(budget_.spilled("0:r"));
  EXPECT_EQ(metrics_.released.Value(), 0);
  read(0, {entry_resp("3-0", "r")});  // the room still takes new entries
  EXPECT_EQ(in_flight("3-0"), 1u);
  target_.answer("ev-2-0", 200);
  target_.answer("ev-3-0", 200);
  EXPECT_EQ(finalized_ids(Finalize::kAckDelivered), "2-0 3-0");  // ahead of 1-0
  clock_.advance(clock_.next_due() - clock_.now_ms());
  EXPECT_EQ(in_flight("1-0"), 1u);
  target_.answer("ev-1-0", 200);
  EXPECT_EQ(finalized_ids(Finalize::kAckDelivered), "2-0 3-0 1-0");
}

TEST_F(UnorderedDeliveryTest, ACopyOfAnEventWaitsForItAndIsDroppedOnceItIsDelivered) {
  settings_.dedup_ttl_s = 300;
  read(0, {entry_resp("1-0", "r", "ev-a"), entry_resp("2-0", "r", "ev-a"), entry_resp("3-0", "r")});
  redis_.answer("MGET", resp::array({resp::nil(), resp::nil(), resp::nil()}));
  EXPECT_EQ(target_.requests().size(), 2u);  // ev-a once, and 3-0
  target_.answer("ev-a", 200);
  EXPECT_EQ(finalized_ids(Finalize::kAckOnly), "2-0");
  EXPECT_EQ(target_.sent_count(), 2u);
}

TEST_F(UnorderedDeliveryTest, APermanentAnswerOrTheLastAttemptIsDeadLetteredBesideItsRoom) {
  read(0, {entry_resp("1-0", "r"), entry_resp("2-0", "r"), entry_resp("3-0", "r")});
  target_.answer("ev-1-0", 400);
  for (int attempt = 1; attempt < settings_.max_deliveries; ++attempt) {
    target_.answer("ev-2-0", 503);
    clock_.advance(clock_.next_due() - clock_.now_ms());
  }
  target_.answer("ev-2-0", 503);  // MAX_DELIVERIES 3
  target_.answer("ev-3-0", 200);
  EXPECT_EQ(finalized_ids(Finalize::kDeadLetter), "1-0 2-0");
  EXPECT_EQ(finalized_ids(Finalize::kAckDelivered), "3-0");
  EXPECT_EQ(held("0/2-0")->dead_letter_reason, DeadLetterReason::kMaxDeliveries);
  EXPECT_EQ(metrics_.in_flight.Value(), 0);
}

TEST_F(UnorderedDeliveryTest, DrainingReleasesWhatWaitsAndLetsDeliveriesInFlightFinish) {
  read(0, {entry_resp("1-0", "r"), entry_resp("2-0", "r"), entry_resp("3-0", "r"),
           entry_resp("4-0", "r"), entry_resp("5-0", "r")});
  target_.answer("ev-1-0", 503);  // backing off
  lifecycle_.drain();
  EXPECT_EQ(held("0/1-0"), nullptr);  // released: pending in Redis
  EXPECT_EQ(held("0/5-0"), nullptr);
  EXPECT_EQ(held_.size(), 3u);  // 2-0, 3-0 and 4-0 in flight
  for (const char* id : {"ev-2-0", "ev-3-0", "ev-4-0"}) target_.answer(id, 200);
  EXPECT_EQ(finalized_ids(Finalize::kAckDelivered), "2-0 3-0 4-0");
  EXPECT_EQ(target_.sent_count(), 4u);  // nothing new started while draining
}

}  // namespace
}  // namespace streamshift
