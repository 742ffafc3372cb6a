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
      scan_retry_timer_(clock.timer([this] {
        budget_.want_scans();
        maybe_scan();
      })),
      random_(JitterRandom::seeded(reinterpret_cast<uintptr_t>(this))),
      pending_cursors_(settings.streams.size(), "0"),
      scan_next_(settings.streams.size()),
      scanning_(settings.streams.size(), false) {
  for (std::vector<size_t>& streams : settings.read_groups()) {
    ReadGroup g;
    g.streams = std::move(streams);
    g.retry_timer = &clock.timer([this] {
      if (!groups_.ready())
        groups_.create();
      else
        maybe_read();
    });
    groups_read_.push_back(std::move(g));
  }
  read_share_ = std::max<size_t>(
      1, static_cast<size_t>(settings.read_count) / std::max<size_t>(1, groups_read_.size()));
}

void StreamReader::on_groups(ConsumerGroups::Result result) {
  if (result == ConsumerGroups::Result::kFailed) {
    if (!groups_read_.empty()) schedule_retry(groups_read_.front());  // creates them again
    return;
  }
  // Our own pending entries first (after a restart, or a group that was
  // just recreated: then there are none), then new ones.
  if (result == ConsumerGroups::Result::kReady) recheck_own_pending();
  maybe_read();
}

void StreamReader::stop() {
  stopped_ = true;
  for (ReadGroup& g : groups_read_) g.retry_timer->stop();
  scan_retry_timer_.stop();
}

void StreamReader::maybe_read() {
  // In turn from a moving start: a group whose read finished first does
  // not always take what is left of the budget.
  size_t n = groups_read_.size();
  if (n == 0) return;  // no streams (refused by the settings)
  size_t first = next_group_;
  next_group_ = (next_group_ + 1) % n;
  for (size_t i = 0; i < n; ++i) read((first + i) % n);
}

void StreamReader::read(size_t group) {
  ReadGroup& g = groups_read_[group];
  if (stopped_ || !groups_.ready() || g.reading || g.retry_timer->active()) return;
  if (!redis_.reader_ready(group)) return;  // resumes on connect
  size_t count = std::min(held_.read_budget(), read_share_);
  if (count == 0) return;  // resumes as entries finish
  RedisArgs args = {"XREADGROUP",       "GROUP", settings_.group,
                    settings_.consumer, "COUNT", std::to_string(count)};
  uint64_t timeout = settings_.redis_timeout_ms;
  if (g.phase == Phase::kNew) {
    args.push_back("BLOCK");
    args.push_back(std::to_string(settings_.block_ms));
    timeout += settings_.block_ms;
  }
  args.push_back("STREAMS");
  for (size_t s : g.streams) args.push_back(settings_.streams[s]);
  for (size_t s : g.streams) args.push_back(g.phase == Phase::kNew ? ">" : pending_cursors_[s]);

  g.reading = true;
  held_.reserve(count);
  redis_.read(
      group, args,
      [this, group, count, phase = g.phase](const RedisResult& r) {
        held_.unreserve(count);
        on_read(group, r, phase);
      },
      timeout);
}

void StreamReader::recheck_own_pending() {
  for (ReadGroup& g : groups_read_) recheck_own_pending(g);
}

void StreamReader::recheck_own_pending(ReadGroup& g) {
  // A reply that never came may have handed entries to this consumer that
  // it does not know of: read the own pending list again before new ones.
  g.phase = Phase::kOwnPending;
  // assign(1, '0'), not = "0": GCC 12 at -O2 warns (-Wrestrict, a false
  // positive) about the inlined copy of a literal.
  for (size_t s : g.streams) pending_cursors_[s].assign(1, '0');
}

void StreamReader::on_read(size_t group, const RedisResult& r, Phase sent_in) {
  ReadGroup& g = groups_read_[group];
  g.reading = false;
  if (stopped_) return;  // what Redis handed us stays pending
  if (is_nogroup(r)) {
    groups_.lost("XREADGROUP");
    return;
  }
  if (r.status != RedisStatus::kOk) {
    // A lost reply leaves its entries pending under our name: the claim
    // sweep takes them back once idle (it claims our own entries too).
    if (g.failures == 0 || g.failures % 50 == 0) {
      log_line(LogLevel::kWarn, "XREADGROUP failed",
               {{"stream", settings_.streams[g.streams.front()]}, {"error", describe(r)}});
    }
    ++g.failures;
    if (may_have_run(r)) recheck_own_pending(g);
    schedule_retry(g);
    return;
  }
  g.failures = 0;
  Entries entries;
  parse_read_reply(r.reply, settings_.streams, entries);
  // A read of new entries answered after a recheck was asked for is no
  // page of the own pending list: that is read from its start next.
  if (g.phase == Phase::kOwnPending && sent_in == Phase::kOwnPending) {
    if (entries.empty()) {
      g.phase = Phase::kNew;
    } else {
      for (const auto& e : entries) pending_cursors_[e->stream_index] = e->id;
    }
  }
  on_entries_(entries, /*scanned=*/false);
  maybe_read();
}

void StreamReader::schedule_retry(ReadGroup& g) {
  g.retry_timer->start(
      kReadBackoff.delay_ms(static_cast<uint32_t>(std::max(g.failures, 1)), random_));
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
