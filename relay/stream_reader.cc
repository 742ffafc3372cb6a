// Reading the streams; see stream_reader.h.
#include "relay/stream_reader.h"

#include <algorithm>

#include "core/log.h"

namespace streamshift {
namespace {

constexpr Backoff kReadBackoff{50, 2000};
constexpr Backoff kScanBackoff{500, 500};

}  // namespace

StreamReader::StreamReader(RelayRedis& redis, RelayClock& clock, const RelaySettings& settings,
                           HeldEntries& held, RoomBudget& budget, ConsumerGroups& groups,
                           OnEntries on_entries)
    : redis_(redis),
      settings_(settings),
      held_(held),
      budget_(budget),
      groups_(groups),
      on_entries_(std::move(on_entries)),
      retry_timer_(clock.timer([this] {
        if (!groups_.ready())
          groups_.create();
        else
          maybe_read();
      })),
      scan_retry_timer_(clock.timer([this] {
        budget_.want_scans();
        maybe_scan();
      })),
      random_(JitterRandom::seeded(reinterpret_cast<uintptr_t>(this))),
      pending_cursors_(settings.streams.size(), "0"),
      scan_next_(settings.streams.size()),
      scanning_(settings.streams.size(), false) {}

void StreamReader::on_groups(ConsumerGroups::Result result) {
  if (result == ConsumerGroups::Result::kFailed) {
    schedule_retry();
    return;
  }
  // Our own pending entries first (after a restart, or a group that was
  // just recreated: then there are none), then new ones.
  if (result == ConsumerGroups::Result::kReady) recheck_own_pending();
  maybe_read();
}

void StreamReader::stop() {
  stopped_ = true;
  retry_timer_.stop();
  scan_retry_timer_.stop();
}

void StreamReader::maybe_read() {
  if (stopped_ || !groups_.ready() || reading_ || retry_timer_.active()) return;
  if (!redis_.reader_ready()) return;  // resumes on connect
  size_t count = held_.read_budget();
  if (count == 0) return;  // resumes as entries finish
  RedisArgs args = {"XREADGROUP",       "GROUP", settings_.group,
                    settings_.consumer, "COUNT", std::to_string(count)};
  uint64_t timeout = settings_.redis_timeout_ms;
  if (phase_ == Phase::kNew) {
    args.push_back("BLOCK");
    args.push_back(std::to_string(settings_.block_ms));
    timeout += settings_.block_ms;
  }
  args.push_back("STREAMS");
  for (const std::string& s : settings_.streams) args.push_back(s);
  for (size_t i = 0; i < settings_.streams.size(); ++i)
    args.push_back(phase_ == Phase::kNew ? ">" : pending_cursors_[i]);

  reading_ = true;
  held_.reserve(count);
  redis_.read(
      args,
      [this, count, phase = phase_](const RedisResult& r) {
        held_.unreserve(count);
        on_read(r, phase);
      },
      timeout);
}

void StreamReader::recheck_own_pending() {
  // A reply that never came may have handed entries to this consumer that
  // it does not know of: read the own pending list again before new ones.
  phase_ = Phase::kOwnPending;
  // assign, not std::fill with "0": GCC 12 at -O2 under ThreadSanitizer
  // warns (-Wrestrict, a false positive) about the inlined copy.
  pending_cursors_.assign(pending_cursors_.size(), std::string("0"));
}

void StreamReader::on_read(const RedisResult& r, Phase sent_in) {
  reading_ = false;
  if (stopped_) return;  // what Redis handed us stays pending
  if (is_nogroup(r)) {
    groups_.lost("XREADGROUP");
    return;
  }
  if (r.status != RedisStatus::kOk) {
    // A lost reply leaves its entries pending under our name: the claim
    // sweep takes them back once idle (it claims our own entries too).
    if (failures_ == 0 || failures_ % 50 == 0) {
      log_line(LogLevel::kWarn, "XREADGROUP failed", {{"error", describe(r)}});
    }
    ++failures_;
    if (may_have_run(r)) recheck_own_pending();
    schedule_retry();
    return;
  }
  failures_ = 0;
  Entries entries;
  parse_read_reply(r.reply, settings_.streams, entries);
  // A read of new entries answered after a recheck was asked for is no
  // page of the own pending list: that is read from its start next.
  if (phase_ == Phase::kOwnPending && sent_in == Phase::kOwnPending) {
    if (entries.empty()) {
      phase_ = Phase::kNew;
    } else {
      for (const auto& e : entries) pending_cursors_[e->stream_index] = e->id;
    }
  }
  on_entries_(entries, /*scanned=*/false);
  maybe_read();
}

void StreamReader::schedule_retry() {
  retry_timer_.start(kReadBackoff.delay_ms(static_cast<uint32_t>(std::max(failures_, 1)), random_));
}

void StreamReader::maybe_scan() {
  if (stopped_ || !groups_.ready() || scan_retry_timer_.active()) return;
  for (size_t s = 0; s < settings_.streams.size(); ++s) {
    if (scanning_[s] || held_.read_budget() == 0) continue;
    if (!scan_next_[s]) scan_next_[s] = budget_.next_scan(s);
    if (scan_next_[s]) scan(s);
  }
}

void StreamReader::scan(size_t s) {
  size_t count = held_.read_budget();
  scanning_[s] = true;
  held_.reserve(count);
  redis_.command(
      {"XREADGROUP", "GROUP", settings_.group, settings_.consumer, "COUNT", std::to_string(count),
       "STREAMS", settings_.streams[s], scan_next_[s]->to_string()},
      [this, s, count](const RedisResult& r) {
        held_.unreserve(count);
        on_scanned(s, r);
        scanning_[s] = false;  // not before: no second page while this one is handled
        maybe_scan();
      });
}

void StreamReader::on_scanned(size_t s, const RedisResult& r) {
  if (stopped_) return;  // what it returned stays pending
  if (r.status != RedisStatus::kOk) {
    scan_next_[s].reset();
    budget_.scan_failed(s);
    if (is_nogroup(r)) {
      groups_.lost("XREADGROUP");
      return;
    }
    log_line(LogLevel::kWarn, "reading set-aside entries failed; trying again",
             {{"stream", settings_.streams[s]}, {"error", describe(r)}});
    scan_retry_timer_.start(kScanBackoff.delay_ms(1, random_));
    return;
  }
  Entries entries;
  parse_read_reply(r.reply, settings_.streams, entries);
  std::optional<StreamId> last;
  if (!entries.empty()) last = entries.back()->stream_id();
  on_entries_(entries, /*scanned=*/true);
  if (budget_.scan_page_done(s, last))
    scan_next_[s] = last;
  else
    scan_next_[s].reset();
}

}  // namespace streamshift
