// The entry's stages; see delivery_lifecycle.h.
#include "relay/delivery_lifecycle.h"

#include <algorithm>
#include <cassert>
#include <memory>

#include "core/log.h"
#include "core/loop.h"
#include "relay/delivery_policy.h"

namespace streamshift {
namespace {

// A failed ack or dead letter is tried again after 100..200 ms.
constexpr Backoff kFinalizeBackoff{200, 200};

}  // namespace

// Entries the room budget counts: those that can go to a room, and only
// with ordering room. With none a room has no cap of its own: its entries
// take CONCURRENCY slots as they come, within max_held() (HeldEntries).
bool DeliveryLifecycle::in_budget(const RelayEntry& e) const {
  return settings_.ordering == RelayOrdering::kRoom && !e.deleted && e.malformed.empty();
}

DeliveryLifecycle::DeliveryLifecycle(RelayClock& clock, DeliveryTarget& target,
                                     EntryFinalizer& finalizer, const RelaySettings& settings,
                                     RelayMetrics& metrics, HeldEntries& held, RoomBudget& budget,
                                     Dedup& dedup, Hooks hooks)
    : clock_(clock),
      target_(target),
      finalizer_(finalizer),
      settings_(settings),
      metrics_(metrics),
      held_(held),
      budget_(budget),
      dedup_(dedup),
      hooks_(std::move(hooks)),
      rooms_(settings.concurrency, settings.ordering),
      retry_timer_(clock.timer([this] { on_retry_due(); })),
      random_(JitterRandom::seeded(reinterpret_cast<uintptr_t>(this))) {}

// ---------------------------------------------------------------- stages

bool DeliveryLifecycle::allowed(EntryStage from, EntryStage to) {
  using S = EntryStage;
  switch (to) {
    case S::kRead:
      return false;
    case S::kChecking:
      return from == S::kRead;
    case S::kQueued:
      return from == S::kRead || from == S::kChecking;
    case S::kDelivering:
      return from == S::kQueued || from == S::kBackoff;
    case S::kBackoff:
      return from == S::kDelivering;
    case S::kFinalizing:
      return from != S::kFinalizing && from != S::kBackoff;
    case S::kFinalizeBackoff:
      return from == S::kFinalizing;
  }
  return false;
}

void DeliveryLifecycle::enter(RelayEntry* e, EntryStage to) {
  assert(allowed(e->stage, to));
  e->stage = to;
}

// ---------------------------------------------------------------- read to queued

void DeliveryLifecycle::accept(StreamReader::Entries& entries, bool scanned) {
  uint64_t now = clock_.now_ms();
  std::vector<RelayEntry*> deliverable;
  for (auto& owned : entries) {
    if (held_.holds(*owned)) continue;  // already ours (read and claimed)
    RelayEntry* e = owned.get();
    if (in_budget(*e)) {
      bool hold = scanned ? budget_.admit_scanned(e->room_key(), e->stream_index, e->stream_id())
                          : budget_.admit(e->room_key(), e->stream_index, e->stream_id());
      if (!hold) {
        metrics_.released.Increment();  // stays pending in Redis; freed here
        continue;
      }
    }
    e->touched_ms = now;
    held_.add(std::move(owned));
    if (e->deleted) {
      metrics_.lost_trimmed.Increment();
      log_line(LogLevel::kError, "pending entry was deleted before delivery: lost",
               {{"stream", settings_.streams[e->stream_index]}, {"id", e->id}});
      finalize(e, Finalize::kAckOnly);
    } else if (!e->malformed.empty()) {
      dead_letter(e, DeadLetterReason::kMalformed, e->malformed);
    } else {
      deliverable.push_back(e);
    }
  }
  metrics_.held.Set(static_cast<double>(held_.size()));
  if (!dedup_.enabled() || deliverable.empty()) {
    for (RelayEntry* e : deliverable) queue(e);
    pump();
    return;
  }
  check(deliverable);
}

// One MGET of the delivered marks for the whole batch.
void DeliveryLifecycle::check(const std::vector<RelayEntry*>& entries) {
  std::vector<std::string> keys;
  keys.reserve(entries.size());
  for (RelayEntry* e : entries) {
    enter(e, EntryStage::kChecking);
    keys.push_back(HeldEntries::key_of(*e));
  }
  dedup_.check(entries, [this, keys = std::move(keys)](const std::vector<bool>& marked) {
    for (size_t i = 0; i < keys.size(); ++i) {
      RelayEntry* e = held_.find(keys[i]);
      if (e == nullptr) continue;
      if (draining_) {
        release(e);
      } else if (marked[i]) {
        drop_duplicate(e);
      } else {
        queue(e);
      }
    }
    pump();
  });
}

void DeliveryLifecycle::queue(RelayEntry* e) {
  if (in_budget(*e) && !budget_.may_queue(e->room_key(), e->stream_id())) {
    set_aside(e);  // an older entry of its room was set aside meanwhile
    return;
  }
  enter(e, EntryStage::kQueued);
  rooms_.push(e);
}

void DeliveryLifecycle::set_concurrency(size_t concurrency) {
  rooms_.set_concurrency(concurrency);
  pump();
}

void DeliveryLifecycle::pump() {
  if (draining_ || closing_) return;
  while (RelayEntry* e = rooms_.next_ready()) {
    if (dedup_.recently_delivered(e->event.event_id))
      drop_duplicate(e);
    else
      deliver(e);
  }
}

// ---------------------------------------------------------------- delivering

void DeliveryLifecycle::deliver(RelayEntry* e) {
  enter(e, EntryStage::kDelivering);
  ++e->attempts;
  metrics_.in_flight.Increment();
  auto request = std::make_unique<UpstreamRequest>();
  request->head = replay_request_head(*e, settings_.target, settings_.target_headers);
  request->borrowed_body = e->event.body;  // the entry outlives the request
  request->is_head = e->event.method == "HEAD";
  request->on_done = [this, key = HeldEntries::key_of(*e)](UpstreamResponse& response) {
    on_delivered(key, response);
  };
  target_.send(std::move(request));
}

void DeliveryLifecycle::on_delivered(const std::string& key, UpstreamResponse& response) {
  RelayEntry* e = held_.find(key);
  if (e == nullptr) return;
  metrics_.in_flight.Decrement();
  if (response.error == UpstreamError::kShutdown) {
    release(e);
    return;
  }
  DeliveryOutcome outcome = classify_delivery(response);
  metrics_.attempts(outcome).Increment();
  NextStep step = next_step(outcome, e->attempts, settings_.max_deliveries);
  if (step == NextStep::kDone) {
    if (!e->redriven()) {  // a redriven entry's ts_ms is its first ingress, long ago
      int64_t age_ms = std::max<int64_t>(wall_clock_ms() - e->event.ts_ms, 0);
      metrics_.delivery_duration(e->event.event_type).Observe(static_cast<double>(age_ms) / 1000.0);
    }
    // Remembered here at once, so the room's next entry, if it is a copy,
    // is dropped before the mark reaches Redis.
    dedup_.remember(e->event.event_id);
    finalize(e, Finalize::kAckDelivered);
    finish_in_room(e);
    return;
  }
  e->last_error = failure_text(response);
  if (step == NextStep::kPermanent) {
    finish_in_room(e);
    dead_letter(e, DeadLetterReason::kPermanentStatus, e->last_error);
    return;
  }
  if (step == NextStep::kOutOfAttempts) {
    finish_in_room(e);
    dead_letter(e, DeadLetterReason::kMaxDeliveries,
                e->last_error + " after " + std::to_string(e->attempts) + " attempts");
    return;
  }
  if (draining_) {
    release(e);
    return;
  }
  back_off(e);
}

void DeliveryLifecycle::back_off(RelayEntry* e) {
  if (settings_.ordering == RelayOrdering::kRoom) {
    // The room waits for its head: what is queued behind it waits in Redis.
    budget_.set_failing(e->room_key(), true);
    rooms_.drop_behind(e, [this](RelayEntry* queued) { set_aside(queued); });
  }  // else only copies of its event wait behind it, in memory
  metrics_.retries.Increment();
  Backoff backoff{settings_.retry_initial_ms, settings_.retry_max_ms};
  uint64_t delay = backoff.delay_ms(static_cast<uint32_t>(e->attempts), random_);
  log_line(LogLevel::kDebug, "delivery failed; retrying",
           {{"event_id", e->event.event_id},
            {"error", e->last_error},
            {"attempt", e->attempts},
            {"retry_in_ms", static_cast<int64_t>(delay)}});
  enter(e, EntryStage::kBackoff);
  schedule(e, delay);
}

void DeliveryLifecycle::finish_in_room(RelayEntry* e) {
  if (e->in_room) rooms_.finish(e);
  if (in_budget(*e)) budget_.set_failing(e->room_key(), false);
  pump();
  hooks_.room_moved();
}

// ---------------------------------------------------------------- finalizing

void DeliveryLifecycle::dead_letter(RelayEntry* e, DeadLetterReason reason, std::string error) {
  e->last_error = std::move(error);
  e->dead_letter_reason = reason;
  finalize(e, Finalize::kDeadLetter);
}

void DeliveryLifecycle::drop_duplicate(RelayEntry* e) {
  metrics_.duplicates_dropped.Increment();
  log_line(LogLevel::kDebug, "duplicate event_id: acked without delivery",
           {{"event_id", e->event.event_id}, {"id", e->id}});
  if (e->in_room) finish_in_room(e);
  finalize(e, Finalize::kAckOnly);
}

void DeliveryLifecycle::finalize(RelayEntry* e, Finalize how) {
  enter(e, EntryStage::kFinalizing);
  e->finalize = how;
  finalizer_.finalize(e);
}

void DeliveryLifecycle::on_finalized(RelayEntry* e, bool finished) {
  if (finished) {
    forget(e);
    return;
  }
  if (draining_ && closing_) {
    release(e);
    return;
  }
  enter(e, EntryStage::kFinalizeBackoff);
  schedule(e, kFinalizeBackoff.delay_ms(1, random_));
}

// ---------------------------------------------------------------- leaving

void DeliveryLifecycle::set_aside(RelayEntry* e) {
  budget_.set_aside(e->room_key(), e->stream_index, e->stream_id());
  metrics_.released.Increment();
  release(e);
}

void DeliveryLifecycle::release(RelayEntry* e) {
  // Not acked: the entry stays pending in Redis under this consumer, for
  // this relay's next start (own pending first) or another's XAUTOCLAIM.
  if (e->in_room) rooms_.finish(e);
  forget(e);
}

void DeliveryLifecycle::forget(RelayEntry* e) {
  if (in_budget(*e)) budget_.left(e->room_key(), e->stream_id());
  held_.remove(*e);
  metrics_.held.Set(static_cast<double>(held_.size()));
  hooks_.left();
}

// ---------------------------------------------------------------- retries

void DeliveryLifecycle::schedule(RelayEntry* e, uint64_t delay_ms) {
  retries_.emplace(clock_.now_ms() + delay_ms, HeldEntries::key_of(*e));
  arm_retry_timer();
}

void DeliveryLifecycle::arm_retry_timer() {
  if (retries_.empty() || closing_) {
    retry_timer_.stop();
    return;
  }
  uint64_t now = clock_.now_ms();
  uint64_t due = retries_.begin()->first;
  retry_timer_.start(due > now ? due - now : 0);
}

void DeliveryLifecycle::on_retry_due() {
  uint64_t now = clock_.now_ms();
  while (!retries_.empty() && retries_.begin()->first <= now) {
    std::string key = std::move(retries_.begin()->second);
    retries_.erase(retries_.begin());
    RelayEntry* e = held_.find(key);
    if (e == nullptr) continue;
    if (e->stage == EntryStage::kFinalizeBackoff) {
      finalize(e, e->finalize);
    } else if (e->stage == EntryStage::kBackoff) {
      if (draining_)
        release(e);
      else
        deliver(e);
    }
  }
  arm_retry_timer();
}

// ---------------------------------------------------------------- draining

void DeliveryLifecycle::drain() {
  draining_ = true;
  // Entries not yet started, or waiting to retry a delivery, stay pending.
  rooms_.drop_waiting([this](RelayEntry* e) { forget(e); });
  std::vector<RelayEntry*> waiting;
  held_.for_each([&](RelayEntry* e) {
    if (e->stage == EntryStage::kBackoff || e->stage == EntryStage::kQueued) waiting.push_back(e);
  });
  for (RelayEntry* e : waiting) release(e);
}

void DeliveryLifecycle::close() {
  closing_ = true;
  retries_.clear();
  retry_timer_.stop();
}

bool DeliveryLifecycle::settled() const {
  bool settled = true;
  held_.for_each([&](RelayEntry* e) {
    if (e->stage != EntryStage::kFinalizeBackoff) settled = false;  // still working on it
  });
  return settled;
}

}  // namespace streamshift
