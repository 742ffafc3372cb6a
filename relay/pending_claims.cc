// Take-over and idle refresh of pending entries; see pending_claims.h.
#include "relay/pending_claims.h"

#include <algorithm>

#include "core/log.h"

namespace streamshift {
namespace {

// XPENDING page size when refreshing set-aside entries.
constexpr size_t kRefreshPage = 1000;

}  // namespace

PendingClaims::PendingClaims(RelayRedis& redis, RelayClock& clock, const RelaySettings& settings,
                             RelayMetrics& metrics, HeldEntries& held, RoomBudget& budget,
                             ConsumerGroups& groups, StreamReader& reader,
                             StreamReader::OnEntries on_entries)
    : redis_(redis),
      clock_(clock),
      settings_(settings),
      metrics_(metrics),
      held_(held),
      budget_(budget),
      groups_(groups),
      reader_(reader),
      on_entries_(std::move(on_entries)),
      claim_timer_(clock.timer([this] { sweep(); })),
      refresh_timer_(clock.timer([this] { refresh(); })),
      claiming_(settings.streams.size(), false),
      refreshing_(settings.streams.size(), false) {}

void PendingClaims::start() {
  uint64_t claim_every = std::max<uint64_t>(settings_.claim_idle_ms / 2, 50);
  claim_timer_.start(claim_every, claim_every);
  uint64_t refresh_every = std::max<uint64_t>(settings_.claim_idle_ms / 3, 30);
  refresh_timer_.start(refresh_every, refresh_every);
}

void PendingClaims::stop() {
  stopped_ = true;
  claim_timer_.stop();
}

void PendingClaims::sweep() {
  if (stopped_ || !groups_.ready()) return;
  for (size_t i = 0; i < settings_.streams.size(); ++i) {
    if (!claiming_[i]) claim(i, "0-0");
  }
}

void PendingClaims::claim(size_t s, std::string cursor) {
  size_t count = held_.read_budget();
  if (count == 0) return;  // the next sweep tries again
  claiming_[s] = true;
  held_.reserve(count);
  redis_.command({"XAUTOCLAIM", settings_.streams[s], settings_.group, settings_.consumer,
                  std::to_string(settings_.claim_idle_ms), cursor, "COUNT", std::to_string(count)},
                 [this, s, count](const RedisResult& r) {
                   held_.unreserve(count);
                   on_claimed(s, r);
                 });
}

void PendingClaims::on_claimed(size_t s, const RedisResult& r) {
  claiming_[s] = false;
  if (stopped_) return;
  const std::string& stream = settings_.streams[s];
  if (is_nogroup(r)) {
    groups_.lost("XAUTOCLAIM");
    return;
  }
  if (r.status != RedisStatus::kOk || r.reply == nullptr || r.reply->type != REDIS_REPLY_ARRAY ||
      r.reply->elements < 2) {
    log_line(LogLevel::kWarn, "XAUTOCLAIM failed", {{"stream", stream}, {"error", describe(r)}});
    if (may_have_run(r)) reader_.recheck_own_pending();
    return;
  }
  std::string next(reply_text(r.reply->element[0]));
  StreamReader::Entries entries;
  parse_entries(r.reply->element[1], s, entries);
  if (r.reply->elements >= 3) count_lost(s, r.reply->element[2]);
  size_t fresh = 0;
  for (const auto& e : entries) fresh += held_.holds(*e) ? 0 : 1;
  if (fresh > 0) {
    metrics_.claimed.Increment(static_cast<double>(fresh));
    log_line(LogLevel::kInfo, "claimed idle pending entries",
             {{"stream", stream}, {"count", static_cast<int64_t>(fresh)}});
  }
  on_entries_(entries, /*scanned=*/false);
  if (!next.empty() && next != "0-0" && held_.read_budget() > 0) claim(s, std::move(next));
}

// Redis 7: XAUTOCLAIM's third element lists pending ids whose entries no
// longer exist (trimmed or deleted), already removed from the pending
// list. They are lost: count and say so.
void PendingClaims::count_lost(size_t s, const redisReply* deleted) {
  if (deleted->type != REDIS_REPLY_ARRAY || deleted->elements == 0) return;
  std::string ids;
  for (size_t i = 0; i < deleted->elements && i < 20; ++i) {
    if (i > 0) ids += ',';
    ids += reply_text(deleted->element[i]);
  }
  metrics_.lost_trimmed.Increment(static_cast<double>(deleted->elements));
  log_line(LogLevel::kError, "pending entries were trimmed before delivery: lost",
           {{"stream", settings_.streams[s]},
            {"count", static_cast<int64_t>(deleted->elements)},
            {"ids", ids}});
}

void PendingClaims::refresh() {
  if (closed_) return;
  // Reset the idle time of every entry held for a third of the claim idle
  // limit, so no other relay takes over what this one is still handling.
  uint64_t now = clock_.now_ms();
  uint64_t stale_after = std::max<uint64_t>(settings_.claim_idle_ms / 3, 1);
  std::vector<RedisArgs> per_stream(settings_.streams.size());
  held_.for_each([&](RelayEntry* e) {
    if (now - e->touched_ms < stale_after) return;
    e->touched_ms = now;
    RedisArgs& args = per_stream[e->stream_index];
    if (args.empty()) {
      args = {"XCLAIM", settings_.streams[e->stream_index], settings_.group, settings_.consumer,
              "0"};
    }
    args.push_back(e->id);
  });
  for (RedisArgs& args : per_stream) {
    if (!args.empty()) reclaim(std::move(args));
  }
  // The same for entries set aside (pending here, not in memory), found
  // through XPENDING; and a periodic look for rooms that can move.
  if (stopped_) return;
  for (size_t s = 0; s < settings_.streams.size(); ++s) {
    auto range = budget_.set_aside_range(s);
    if (range && !refreshing_[s])
      refresh_set_aside(s, "(" + range->first.to_string(), range->second.to_string());
  }
  budget_.want_scans();
  reader_.maybe_scan();
}

void PendingClaims::refresh_set_aside(size_t s, std::string start, std::string end) {
  refreshing_[s] = true;
  std::string idle = std::to_string(std::max<uint64_t>(settings_.claim_idle_ms / 3, 1));
  redis_.command({"XPENDING", settings_.streams[s], settings_.group, "IDLE", idle, start, end,
                  std::to_string(kRefreshPage), settings_.consumer},
                 [this, s, idle, end](const RedisResult& r) {
                   refreshing_[s] = false;
                   if (is_nogroup(r)) groups_.lost("XPENDING");
                   if (closed_ || r.status != RedisStatus::kOk ||
                       r.reply->type != REDIS_REPLY_ARRAY || r.reply->elements == 0) {
                     return;
                   }
                   // Only entries still idle are claimed again: one another relay
                   // has just taken over is not taken back.
                   RedisArgs args = {"XCLAIM", settings_.streams[s], settings_.group,
                                     settings_.consumer, idle};
                   for (size_t i = 0; i < r.reply->elements; ++i) {
                     const redisReply* row = r.reply->element[i];
                     if (row->type == REDIS_REPLY_ARRAY && row->elements >= 1)
                       args.emplace_back(reply_text(row->element[0]));
                   }
                   if (args.size() == 5) return;
                   std::string next = "(" + args.back();
                   reclaim(std::move(args));
                   if (r.reply->elements == kRefreshPage)
                     refresh_set_aside(s, std::move(next), end);
                 });
}

void PendingClaims::reclaim(RedisArgs args) {
  args.push_back("JUSTID");
  redis_.command(args, [this](const RedisResult& claimed) {
    if (is_nogroup(claimed)) groups_.lost("XCLAIM");
  });
}

}  // namespace streamshift
