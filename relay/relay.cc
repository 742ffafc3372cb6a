// The relay's state machine; see relay.h.
#include "relay/relay.h"

#include <algorithm>

#include "core/log.h"
#include "core/loop.h"
#include "relay/delivery_policy.h"

namespace streamshift {
namespace {

// Acks a batch of one stream's entries: KEYS[1] the stream, KEYS[2..] the
// delivered marks to set; ARGV[1] group, ARGV[2] mark TTL in seconds,
// ARGV[3..] the entry ids.
constexpr const char* kAckScript =
    "for i = 2, #KEYS do redis.call('SET', KEYS[i], '1', 'EX', ARGV[2]) end "
    "return redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 3))";

// How many delivered event_ids this relay remembers itself, to drop a
// second copy read before the first one's mark was written in Redis.
constexpr size_t kRecentlyDelivered = 4096;

// Entry ids per ack command: Lua's unpack() takes about 8000 values at
// most, and one command stays small.
constexpr size_t kMaxIdsPerAck = 1000;

// NOGROUP as Redis's own reply, or inside a script's error ("ERR ... NOGROUP ...").
bool is_nogroup(const RedisResult& r) {
  return r.status == RedisStatus::kErrorReply && r.error.find("NOGROUP") != std::string_view::npos;
}

// A command that may have run in Redis although its reply never came.
bool may_have_run(const RedisResult& r) {
  return r.status == RedisStatus::kTimeout || r.status == RedisStatus::kConnectionLost;
}

StreamId entry_id(const RelayEntry& e) {
  return StreamId::parse(e.id).value_or(StreamId{});
}

// Entries the room budget counts: those that can go to a room.
bool in_budget(const RelayEntry& e) {
  return !e.deleted && e.malformed.empty();
}

// XPENDING page size when refreshing set-aside entries.
constexpr size_t kRefreshPage = 1000;

std::string describe(const RedisResult& r) {
  if (r.status == RedisStatus::kErrorReply) return std::string(r.error);
  return std::string(redis_status_name(r.status));
}

std::string_view finalize_name(Finalize how) {
  switch (how) {
    case Finalize::kAckDelivered:
      return "ack";
    case Finalize::kAckOnly:
      return "ack";
    case Finalize::kDeadLetter:
      return "dead-letter";
  }
  return "?";
}

}  // namespace

struct Relay::Command {
  Relay* relay;
  std::function<void(const RedisResult&)> done;
  static void on_reply(void* data, const RedisResult& result) {
    std::unique_ptr<Command> c(static_cast<Command*>(data));
    if (result.status != RedisStatus::kOk) c->relay->metrics_.redis_errors.Increment();
    c->done(result);
  }
};

Relay::Relay(uv_loop_t* loop, const RelaySettings& settings, RelayMetrics& metrics)
    : loop_(loop),
      settings_(settings),
      metrics_(metrics),
      reader_(loop, redis_options("relay-read",
                                  [this](int delta) {
                                    metrics_.redis_connections_ready.Increment(delta);
                                    if (delta > 0) maybe_read();
                                  })),
      commands_(loop, redis_options("relay",
                                    [this](int delta) {
                                      metrics_.redis_connections_ready.Increment(delta);
                                      // After a reconnect the server may be a fresh one
                                      // (restart without persistence): make sure.
                                      if (delta > 0) create_groups();
                                    })),
      target_(loop, UpstreamOptions{.host = settings.target.host,
                                    .port = settings.target.port,
                                    .connect_timeout_ms = settings.connect_timeout_ms,
                                    .request_timeout_ms = settings.delivery_timeout_ms,
                                    .max_connections = settings.concurrency,
                                    .max_response_bytes = settings.max_response_bytes}),
      rooms_(settings.concurrency),
      budget_(RelaySettings::kRoomMaxHeld, settings.streams.size()),
      acks_(settings.streams.size()),
      pending_cursors_(settings.streams.size(), "0"),
      claiming_(settings.streams.size(), false),
      scan_next_(settings.streams.size()),
      scanning_(settings.streams.size(), false),
      refreshing_(settings.streams.size(), false),
      random_state_(uv_hrtime() | 1) {
  for (uv_timer_t* t : {&read_retry_timer_, &retry_timer_, &claim_timer_, &refresh_timer_,
                        &lag_timer_, &drain_timer_, &scan_retry_timer_}) {
    uv_timer_init(loop_, t);
    t->data = this;
    ++handles_open_;
  }
  uv_check_init(loop_, &ack_flush_);
  ack_flush_.data = this;
  ++handles_open_;
}

Relay::~Relay() = default;

RedisOptions Relay::redis_options(std::string name,
                                  std::function<void(int)> on_ready_change) const {
  return RedisOptions{.name = std::move(name),
                      .endpoint = settings_.redis,
                      .connections = 1,
                      .connect_timeout_ms = settings_.redis_connect_timeout_ms,
                      .on_ready_change = std::move(on_ready_change)};
}

void Relay::start() {
  reader_.start();
  commands_.start();
  uint64_t claim_every = std::max<uint64_t>(settings_.claim_idle_ms / 2, 50);
  uv_timer_start(
      &claim_timer_, [](uv_timer_t* t) { static_cast<Relay*>(t->data)->claim_sweep(); },
      claim_every, claim_every);
  uint64_t refresh_every = std::max<uint64_t>(settings_.claim_idle_ms / 3, 30);
  uv_timer_start(
      &refresh_timer_, [](uv_timer_t* t) { static_cast<Relay*>(t->data)->refresh_held(); },
      refresh_every, refresh_every);
  uv_timer_start(
      &lag_timer_, [](uv_timer_t* t) { static_cast<Relay*>(t->data)->refresh_lag(); },
      settings_.lag_interval_ms, settings_.lag_interval_ms);
}

bool Relay::ready() const {
  return not_ready_reason().empty();
}

std::string Relay::not_ready_reason() const {
  if (draining_) return "draining";
  if (commands_.ready_connections() == 0 || reader_.ready_connections() == 0)
    return "redis not connected";
  if (!groups_ready_) return "consumer groups not created yet";
  return {};
}

void Relay::command(const std::vector<std::string>& args,
                    std::function<void(const RedisResult&)> done, uint64_t timeout_ms) {
  send(commands_, args, std::move(done), timeout_ms != 0 ? timeout_ms : settings_.redis_timeout_ms);
}

void Relay::send(RedisClient& client, const std::vector<std::string>& args,
                 std::function<void(const RedisResult&)> done, uint64_t timeout_ms) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* c = new Command{this, std::move(done)};
  client.command(static_cast<int>(argv.size()), argv.data(), lens.data(), timeout_ms,
                 Command::on_reply, c);
}

uint64_t Relay::next_random() {
  random_state_ ^= random_state_ << 13;
  random_state_ ^= random_state_ >> 7;
  random_state_ ^= random_state_ << 17;
  return random_state_;
}

std::string Relay::key_of(const RelayEntry& e) const {
  std::string key = std::to_string(e.stream_index);
  key += '/';
  key += e.id;
  return key;
}

RelayEntry* Relay::find(const std::string& key) {
  auto it = held_.find(key);
  return it == held_.end() ? nullptr : it->second.get();
}

// ---------------------------------------------------------------- groups

void Relay::create_groups() {
  if (creating_groups_ || closing_) return;
  creating_groups_ = true;
  groups_pending_ = settings_.streams.size();
  groups_failed_ = false;
  for (const std::string& stream : settings_.streams) {
    command({"XGROUP", "CREATE", stream, settings_.group, settings_.group_start_id, "MKSTREAM"},
            [this, stream](const RedisResult& r) {
              bool exists =
                  r.status == RedisStatus::kErrorReply && r.error.rfind("BUSYGROUP", 0) == 0;
              if (r.status == RedisStatus::kOk) {
                metrics_.groups_created.Increment();
                log_line(LogLevel::kInfo, "consumer group created",
                         {{"stream", stream},
                          {"group", settings_.group},
                          {"start", settings_.group_start_id}});
              } else if (!exists) {
                log_line(LogLevel::kWarn, "cannot create consumer group",
                         {{"stream", stream}, {"group", settings_.group}, {"error", describe(r)}});
              }
              on_group_created(r.status == RedisStatus::kOk || exists);
            });
  }
}

void Relay::on_group_created(bool ok) {
  if (!ok) groups_failed_ = true;
  if (--groups_pending_ > 0) return;
  creating_groups_ = false;
  if (groups_failed_) {
    schedule_read_retry();
    return;
  }
  if (!groups_ready_) {
    groups_ready_ = true;
    // Our own pending entries first (after a restart, or a group that was
    // just recreated: then there are none), then new ones.
    phase_ = ReadPhase::kOwnPending;
    std::fill(pending_cursors_.begin(), pending_cursors_.end(), "0");
    refresh_lag();  // the gauges exist from the moment the relay is ready
  }
  maybe_read();
}

void Relay::group_lost(std::string_view where) {
  log_line(LogLevel::kWarn, "consumer group missing: creating it again",
           {{"group", settings_.group}, {"during", where}});
  groups_ready_ = false;
  create_groups();
}

// ---------------------------------------------------------------- reading

void Relay::maybe_read() {
  if (draining_ || closing_ || !groups_ready_ || reading_) return;
  if (uv_is_active(reinterpret_cast<uv_handle_t*>(&read_retry_timer_))) return;
  if (reader_.ready_connections() == 0) return;  // resumes on connect
  size_t count = read_budget();
  if (count == 0) return;  // resumes as entries finish
  std::vector<std::string> args = {"XREADGROUP",       "GROUP", settings_.group,
                                   settings_.consumer, "COUNT", std::to_string(count)};
  uint64_t timeout = settings_.redis_timeout_ms;
  if (phase_ == ReadPhase::kNew) {
    args.push_back("BLOCK");
    args.push_back(std::to_string(settings_.block_ms));
    timeout += settings_.block_ms;
  }
  args.push_back("STREAMS");
  for (const std::string& s : settings_.streams) args.push_back(s);
  for (size_t i = 0; i < settings_.streams.size(); ++i)
    args.push_back(phase_ == ReadPhase::kNew ? ">" : pending_cursors_[i]);

  reading_ = true;
  reserved_ += count;
  send(
      reader_, args,
      [this, count](const RedisResult& r) {
        reserved_ -= count;
        on_read(r);
      },
      timeout);
}

size_t Relay::read_budget() const {
  size_t used = held_.size() + reserved_;
  size_t max = settings_.max_held();
  return used >= max ? 0 : std::min(static_cast<size_t>(settings_.read_count), max - used);
}

void Relay::recheck_own_pending() {
  // A reply that never came may have handed entries to this consumer that
  // it does not know of: read the own pending list again before new ones.
  phase_ = ReadPhase::kOwnPending;
  std::fill(pending_cursors_.begin(), pending_cursors_.end(), "0");
}

void Relay::on_read(const RedisResult& r) {
  reading_ = false;
  if (draining_ || closing_) return;  // what Redis handed us stays pending
  if (is_nogroup(r)) {
    group_lost("XREADGROUP");
    return;
  }
  if (r.status != RedisStatus::kOk) {
    // A lost reply leaves its entries pending under our name: the claim
    // sweep takes them back once idle (it claims our own entries too).
    if (read_failures_ == 0 || read_failures_ % 50 == 0) {
      log_line(LogLevel::kWarn, "XREADGROUP failed", {{"error", describe(r)}});
    }
    ++read_failures_;
    if (may_have_run(r)) recheck_own_pending();
    schedule_read_retry();
    return;
  }
  read_failures_ = 0;
  std::vector<std::unique_ptr<RelayEntry>> entries;
  parse_read_reply(r.reply, settings_.streams, entries);
  if (phase_ == ReadPhase::kOwnPending) {
    if (entries.empty()) {
      phase_ = ReadPhase::kNew;
    } else {
      for (const auto& e : entries) pending_cursors_[e->stream_index] = e->id;
    }
  }
  accept(entries);
  maybe_read();
}

void Relay::schedule_read_retry() {
  uint64_t delay = retry_delay_ms(std::max(read_failures_, 1), 50, 2000, next_random());
  uv_timer_start(
      &read_retry_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<Relay*>(t->data);
        if (!self->groups_ready_)
          self->create_groups();
        else
          self->maybe_read();
      },
      delay, 0);
}

// ---------------------------------------------------------------- scans

// Entries set aside come back from the own pending list (XREADGROUP from
// an id, on the commands connection: it never blocks), one scan per stream
// at a time, paged by the read budget; see room_budget.h.
void Relay::maybe_scan() {
  if (draining_ || closing_ || !groups_ready_) return;
  if (uv_is_active(reinterpret_cast<uv_handle_t*>(&scan_retry_timer_))) return;
  for (size_t s = 0; s < settings_.streams.size(); ++s) {
    if (scanning_[s] || read_budget() == 0) continue;
    if (!scan_next_[s]) scan_next_[s] = budget_.next_scan(s);
    if (scan_next_[s]) scan_stream(s);
  }
}

void Relay::scan_stream(size_t s) {
  size_t count = read_budget();
  scanning_[s] = true;
  reserved_ += count;
  command({"XREADGROUP", "GROUP", settings_.group, settings_.consumer, "COUNT",
           std::to_string(count), "STREAMS", settings_.streams[s], scan_next_[s]->to_string()},
          [this, s, count](const RedisResult& r) {
            reserved_ -= count;
            on_scanned(s, r);
            scanning_[s] = false;  // not before: no second page while this one is handled
            maybe_scan();
          });
}

void Relay::on_scanned(size_t s, const RedisResult& r) {
  if (draining_ || closing_) return;  // what it returned stays pending
  if (r.status != RedisStatus::kOk) {
    scan_next_[s].reset();
    budget_.scan_failed(s);
    if (is_nogroup(r)) {
      group_lost("XREADGROUP");
      return;
    }
    log_line(LogLevel::kWarn, "reading set-aside entries failed; trying again",
             {{"stream", settings_.streams[s]}, {"error", describe(r)}});
    uv_timer_start(
        &scan_retry_timer_,
        [](uv_timer_t* t) {
          auto* self = static_cast<Relay*>(t->data);
          self->budget_.want_scans();
          self->maybe_scan();
        },
        retry_delay_ms(1, 500, 500, next_random()), 0);
    return;
  }
  std::vector<std::unique_ptr<RelayEntry>> entries;
  parse_read_reply(r.reply, settings_.streams, entries);
  std::optional<StreamId> last;
  if (!entries.empty()) last = entry_id(*entries.back());
  accept(entries, /*scanned=*/true);
  if (budget_.scan_page_done(s, last))
    scan_next_[s] = last;
  else
    scan_next_[s].reset();
}

// ---------------------------------------------------------------- claims

void Relay::claim_sweep() {
  if (draining_ || closing_ || !groups_ready_) return;
  for (size_t i = 0; i < settings_.streams.size(); ++i) {
    if (!claiming_[i]) claim_stream(i, "0-0");
  }
}

void Relay::claim_stream(size_t stream_index, std::string cursor) {
  size_t count = read_budget();
  if (count == 0) return;  // the next sweep tries again
  claiming_[stream_index] = true;
  reserved_ += count;
  command({"XAUTOCLAIM", settings_.streams[stream_index], settings_.group, settings_.consumer,
           std::to_string(settings_.claim_idle_ms), cursor, "COUNT", std::to_string(count)},
          [this, stream_index, count](const RedisResult& r) {
            reserved_ -= count;
            on_claimed(stream_index, r);
          });
}

void Relay::on_claimed(size_t stream_index, const RedisResult& r) {
  claiming_[stream_index] = false;
  if (draining_ || closing_) return;
  const std::string& stream = settings_.streams[stream_index];
  if (is_nogroup(r)) {
    group_lost("XAUTOCLAIM");
    return;
  }
  if (r.status != RedisStatus::kOk || r.reply == nullptr || r.reply->type != REDIS_REPLY_ARRAY ||
      r.reply->elements < 2) {
    log_line(LogLevel::kWarn, "XAUTOCLAIM failed", {{"stream", stream}, {"error", describe(r)}});
    if (may_have_run(r)) recheck_own_pending();
    return;
  }
  std::string next(reply_text(r.reply->element[0]));
  std::vector<std::unique_ptr<RelayEntry>> entries;
  parse_entries(r.reply->element[1], stream_index, entries);
  // Redis 7: the third element lists pending ids whose entries no longer
  // exist (trimmed or deleted); XAUTOCLAIM has already removed them from
  // the pending list. They are lost: count and say so.
  if (r.reply->elements >= 3 && r.reply->element[2]->type == REDIS_REPLY_ARRAY &&
      r.reply->element[2]->elements > 0) {
    const redisReply* deleted = r.reply->element[2];
    std::string ids;
    for (size_t i = 0; i < deleted->elements && i < 20; ++i) {
      if (i > 0) ids += ',';
      ids += reply_text(deleted->element[i]);
    }
    metrics_.lost_trimmed.Increment(static_cast<double>(deleted->elements));
    log_line(
        LogLevel::kError, "pending entries were trimmed before delivery: lost",
        {{"stream", stream}, {"count", static_cast<int64_t>(deleted->elements)}, {"ids", ids}});
  }
  size_t fresh = 0;
  for (const auto& e : entries) fresh += held_.count(key_of(*e)) == 0 ? 1 : 0;
  if (fresh > 0) {
    metrics_.claimed.Increment(static_cast<double>(fresh));
    log_line(LogLevel::kInfo, "claimed idle pending entries",
             {{"stream", stream}, {"count", static_cast<int64_t>(fresh)}});
  }
  accept(entries);
  if (!next.empty() && next != "0-0" && read_budget() > 0) {
    claim_stream(stream_index, std::move(next));
  }
}

void Relay::refresh_held() {
  if (closing_) return;
  // Reset the idle time of every entry held for a third of the claim idle
  // limit, so no other relay takes over what this one is still handling.
  uint64_t now = uv_now(loop_);
  uint64_t stale_after = std::max<uint64_t>(settings_.claim_idle_ms / 3, 1);
  std::vector<std::vector<std::string>> per_stream(settings_.streams.size());
  for (auto& [key, e] : held_) {
    if (now - e->touched_ms < stale_after) continue;
    e->touched_ms = now;
    auto& args = per_stream[e->stream_index];
    if (args.empty()) {
      args = {"XCLAIM", settings_.streams[e->stream_index], settings_.group, settings_.consumer,
              "0"};
    }
    args.push_back(e->id);
  }
  for (auto& args : per_stream) {
    if (args.empty()) continue;
    args.push_back("JUSTID");
    command(args, [this](const RedisResult& r) {
      if (is_nogroup(r)) group_lost("XCLAIM");
    });
  }
  // The same for entries set aside (pending here, not in memory), found
  // through XPENDING; and a periodic look for rooms that can move.
  if (draining_) return;
  for (size_t s = 0; s < settings_.streams.size(); ++s) {
    auto range = budget_.set_aside_range(s);
    if (range && !refreshing_[s])
      refresh_set_aside(s, "(" + range->first.to_string(), range->second.to_string());
  }
  budget_.want_scans();
  maybe_scan();
}

void Relay::refresh_set_aside(size_t s, std::string start, std::string end) {
  refreshing_[s] = true;
  std::string idle = std::to_string(std::max<uint64_t>(settings_.claim_idle_ms / 3, 1));
  command({"XPENDING", settings_.streams[s], settings_.group, "IDLE", idle, start, end,
           std::to_string(kRefreshPage), settings_.consumer},
          [this, s, idle, end](const RedisResult& r) {
            refreshing_[s] = false;
            if (is_nogroup(r)) group_lost("XPENDING");
            if (closing_ || r.status != RedisStatus::kOk || r.reply->type != REDIS_REPLY_ARRAY ||
                r.reply->elements == 0) {
              return;
            }
            // Only entries still idle are claimed again: one another relay
            // has just taken over is not taken back.
            std::vector<std::string> args = {"XCLAIM", settings_.streams[s], settings_.group,
                                             settings_.consumer, idle};
            for (size_t i = 0; i < r.reply->elements; ++i) {
              const redisReply* row = r.reply->element[i];
              if (row->type == REDIS_REPLY_ARRAY && row->elements >= 1)
                args.emplace_back(reply_text(row->element[0]));
            }
            if (args.size() == 5) return;
            std::string next = "(" + args.back();
            args.push_back("JUSTID");
            command(args, [this](const RedisResult& claimed) {
              if (is_nogroup(claimed)) group_lost("XCLAIM");
            });
            if (r.reply->elements == kRefreshPage) refresh_set_aside(s, std::move(next), end);
          });
}

// event_consumer_lag and event_queue_depth, every LAG_INTERVAL_MS. A series
// whose look-up failed, or whose lag Redis cannot tell (nil), is removed,
// never left at its last value: a frozen lag keeps an alert firing after
// the backlog is gone.
void Relay::refresh_lag() {
  if (closing_) return;
  for (const std::string& stream : settings_.streams) {
    command({"XLEN", stream}, [this, stream](const RedisResult& r) {
      bool ok = r.status == RedisStatus::kOk && r.reply != nullptr &&
                r.reply->type == REDIS_REPLY_INTEGER;
      metrics_.set_queue_depth(stream,
                               ok ? std::optional<int64_t>(r.reply->integer) : std::nullopt);
    });
    command({"XINFO", "GROUPS", stream}, [this, stream](const RedisResult& r) {
      std::optional<int64_t> found;
      if (r.status != RedisStatus::kOk || r.reply == nullptr ||
          r.reply->type != REDIS_REPLY_ARRAY) {
        metrics_.set_consumer_lag(stream, settings_.group, found);
        return;
      }
      for (size_t g = 0; g < r.reply->elements; ++g) {
        const redisReply* group = r.reply->element[g];
        if (group->type != REDIS_REPLY_ARRAY) continue;
        bool ours = false;
        const redisReply* lag = nullptr;
        for (size_t i = 0; i + 1 < group->elements; i += 2) {
          std::string_view name = reply_text(group->element[i]);
          if (name == "name") ours = reply_text(group->element[i + 1]) == settings_.group;
          if (name == "lag") lag = group->element[i + 1];
        }
        if (ours && lag != nullptr && lag->type == REDIS_REPLY_INTEGER) found = lag->integer;
      }
      metrics_.set_consumer_lag(stream, settings_.group, found);
    });
  }
}

// ---------------------------------------------------------------- entries

void Relay::accept(std::vector<std::unique_ptr<RelayEntry>>& entries, bool scanned) {
  uint64_t now = uv_now(loop_);
  std::vector<RelayEntry*> deliverable;
  for (auto& owned : entries) {
    std::string key = key_of(*owned);
    if (held_.count(key) != 0) continue;  // already ours (read and claimed)
    RelayEntry* e = owned.get();
    if (in_budget(*e)) {
      bool hold = scanned ? budget_.admit_scanned(e->room_key(), e->stream_index, entry_id(*e))
                          : budget_.admit(e->room_key(), e->stream_index, entry_id(*e));
      if (!hold) {
        metrics_.released.Increment();  // stays pending in Redis; freed here
        continue;
      }
    }
    e->touched_ms = now;
    held_.emplace(key, std::move(owned));
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
  if (settings_.dedup_ttl_s == 0 || deliverable.empty()) {
    for (RelayEntry* e : deliverable) queue(e);
    pump();
    return;
  }
  // One MGET of the delivered marks for the whole batch. Its answer comes
  // back in read order (one pipelined connection), so rooms keep stream order.
  std::vector<std::string> args = {"MGET"};
  std::vector<std::string> keys;
  for (RelayEntry* e : deliverable) {
    e->stage = EntryStage::kChecking;
    args.push_back(settings_.dedup_prefix + std::string(e->event_id));
    keys.push_back(key_of(*e));
  }
  command(args, [this, keys = std::move(keys)](const RedisResult& r) {
    bool answered = r.status == RedisStatus::kOk && r.reply->type == REDIS_REPLY_ARRAY &&
                    r.reply->elements == keys.size();
    for (size_t i = 0; i < keys.size(); ++i) {
      RelayEntry* e = find(keys[i]);
      if (e == nullptr) continue;
      if (draining_) {
        release(e);
      } else if (answered && r.reply->element[i]->type != REDIS_REPLY_NIL) {
        drop_duplicate(e);
      } else {
        queue(e);  // unknown when Redis failed: deliver; a duplicate beats a loss
      }
    }
    pump();
  });
}

void Relay::queue(RelayEntry* e) {
  if (!budget_.may_queue(e->room_key(), entry_id(*e))) {
    set_aside(e);  // an older entry of its room was set aside meanwhile
    return;
  }
  e->stage = EntryStage::kQueued;
  rooms_.push(e);
}

void Relay::set_aside(RelayEntry* e) {
  budget_.set_aside(e->room_key(), e->stream_index, entry_id(*e));
  metrics_.released.Increment();
  release(e);
}

void Relay::drop_duplicate(RelayEntry* e) {
  metrics_.duplicates_dropped.Increment();
  log_line(LogLevel::kDebug, "duplicate event_id: acked without delivery",
           {{"event_id", e->event_id}, {"id", e->id}});
  if (e->in_room) finish_in_room(e);
  finalize(e, Finalize::kAckOnly);
}

void Relay::pump() {
  if (draining_ || closing_) return;
  while (RelayEntry* e = rooms_.next_ready()) start_entry(e);
}

void Relay::start_entry(RelayEntry* e) {
  if (settings_.dedup_ttl_s > 0 && recently_delivered_.count(std::string(e->event_id)) != 0) {
    drop_duplicate(e);
    return;
  }
  deliver(e);
}

void Relay::remember_delivered(std::string_view event_id) {
  if (settings_.dedup_ttl_s == 0) return;
  if (!recently_delivered_.emplace(event_id).second) return;
  recent_order_.emplace_back(event_id);
  if (recent_order_.size() > kRecentlyDelivered) {
    recently_delivered_.erase(recent_order_.front());
    recent_order_.pop_front();
  }
}

void Relay::deliver(RelayEntry* e) {
  e->stage = EntryStage::kDelivering;
  ++e->attempts;
  metrics_.in_flight.Increment();
  auto request = std::make_unique<UpstreamRequest>();
  request->head = replay_request_head(*e, settings_.target);
  request->borrowed_body = e->body;  // the entry outlives the request
  request->is_head = e->method == "HEAD";
  request->on_done = [this, key = key_of(*e)](UpstreamResponse& response) {
    on_delivered(key, response);
  };
  target_.send(std::move(request));
}

void Relay::on_delivered(const std::string& key, UpstreamResponse& response) {
  RelayEntry* e = find(key);
  if (e == nullptr) return;
  metrics_.in_flight.Decrement();
  if (response.error == UpstreamError::kShutdown) {
    release(e);
    return;
  }
  DeliveryOutcome outcome = classify_delivery(response);
  metrics_.attempts(outcome).Increment();
  if (outcome == DeliveryOutcome::kDelivered) {
    int64_t age_ms = std::max<int64_t>(wall_clock_ms() - e->ts_ms, 0);
    metrics_.delivery_duration(e->event_type).Observe(static_cast<double>(age_ms) / 1000.0);
    // Remembered here at once, so the room's next entry, if it is a copy,
    // is dropped before the mark reaches Redis.
    remember_delivered(e->event_id);
    finalize(e, Finalize::kAckDelivered);
    finish_in_room(e);
    return;
  }
  e->last_error = response.error != UpstreamError::kNone
                      ? std::string(upstream_error_name(response.error)) +
                            (response.detail.empty() ? "" : ": " + response.detail)
                      : "HTTP " + std::to_string(response.status);
  if (outcome == DeliveryOutcome::kPermanent) {
    finish_in_room(e);
    dead_letter(e, DeadLetterReason::kPermanentStatus, e->last_error);
    return;
  }
  if (e->attempts >= settings_.max_deliveries) {
    finish_in_room(e);
    dead_letter(e, DeadLetterReason::kMaxDeliveries,
                e->last_error + " after " + std::to_string(e->attempts) + " attempts");
    return;
  }
  if (draining_) {
    release(e);
    return;
  }
  // The room waits for its head: what is queued behind it waits in Redis.
  budget_.set_failing(e->room_key(), true);
  rooms_.drop_behind(e, [this](RelayEntry* queued) { set_aside(queued); });
  metrics_.retries.Increment();
  uint64_t delay = retry_delay_ms(e->attempts, settings_.retry_initial_ms, settings_.retry_max_ms,
                                  next_random());
  log_line(LogLevel::kDebug, "delivery failed; retrying",
           {{"event_id", e->event_id},
            {"error", e->last_error},
            {"attempt", e->attempts},
            {"retry_in_ms", static_cast<int64_t>(delay)}});
  e->stage = EntryStage::kBackoff;
  schedule(e, delay);
}

void Relay::finish_in_room(RelayEntry* e) {
  if (e->in_room) rooms_.finish(e);
  budget_.set_failing(e->room_key(), false);
  pump();
  maybe_scan();
}

void Relay::dead_letter(RelayEntry* e, DeadLetterReason reason, std::string error) {
  e->last_error = std::move(error);
  dead_letter_reasons_[key_of(*e)] = reason;
  finalize(e, Finalize::kDeadLetter);
}

void Relay::finalize(RelayEntry* e, Finalize how) {
  e->stage = EntryStage::kFinalizing;
  e->finalize = how;
  if (how != Finalize::kDeadLetter) {
    // Acks wait for the end of the loop turn (a check handle, after the I/O
    // callbacks) and leave in one command per stream; the Redis adapter
    // writes them before the loop blocks again.
    acks_[e->stream_index].push_back(key_of(*e));
    uv_check_start(&ack_flush_, [](uv_check_t* h) { static_cast<Relay*>(h->data)->flush_acks(); });
    return;
  }
  // The dead letter first, the ack once it is written: never acked without
  // its dead letter. A plain XADD, not a script: an entry may have more
  // fields than Lua can pass to one call (unpack stops near 8000 values).
  const std::string& stream = settings_.streams[e->stream_index];
  std::vector<std::string> args = {
      "XADD", settings_.dlq_stream, "MAXLEN", "~", std::to_string(settings_.dlq_max_len), "*"};
  args.reserve(args.size() + 2 * e->fields.size() + 12);
  for (const auto& [name, value] : e->fields) {
    args.push_back(name);
    args.push_back(value);
  }
  for (auto [name, value] : {std::pair<std::string, std::string>{"dlq_error", e->last_error},
                             {"dlq_deliveries", std::to_string(e->attempts)},
                             {"dlq_source_stream", stream},
                             {"dlq_source_id", e->id},
                             {"dlq_consumer", settings_.consumer},
                             {"dlq_ts_ms", std::to_string(wall_clock_ms())}}) {
    args.push_back(std::move(name));
    args.push_back(std::move(value));
  }
  command(args, [this, key = key_of(*e)](const RedisResult& r) { on_dead_lettered(key, r); });
}

void Relay::on_dead_lettered(const std::string& key, const RedisResult& r) {
  RelayEntry* e = find(key);
  if (e == nullptr) return;
  if (r.status != RedisStatus::kOk) {
    on_finalized(key, r);  // retried as a dead letter
    return;
  }
  // Counted once, when the dead letter exists; a failed ack is retried
  // alone, without a second dead letter.
  auto reason = dead_letter_reasons_.find(key);
  if (reason != dead_letter_reasons_.end()) {
    metrics_.dead_lettered(reason->second).Increment();
    dead_letter_reasons_.erase(reason);
  }
  log_line(LogLevel::kWarn, "entry dead-lettered",
           {{"stream", settings_.streams[e->stream_index]},
            {"id", e->id},
            {"event_id", e->event_id},
            {"error", e->last_error},
            {"deliveries", e->attempts},
            {"dead_letter_stream", settings_.dlq_stream},
            {"dead_letter_id", reply_text(r.reply)}});
  finalize(e, Finalize::kAckOnly);
}

void Relay::flush_acks() {
  uv_check_stop(&ack_flush_);
  for (size_t s = 0; s < acks_.size(); ++s) {
    if (acks_[s].empty()) continue;
    std::vector<std::string> all = std::move(acks_[s]);
    acks_[s].clear();
    for (size_t from = 0; from < all.size(); from += kMaxIdsPerAck) {
      size_t to = std::min(all.size(), from + kMaxIdsPerAck);
      send_acks(s, std::vector<std::string>(std::make_move_iterator(all.begin() + from),
                                            std::make_move_iterator(all.begin() + to)));
    }
  }
}

void Relay::send_acks(size_t s, std::vector<std::string> keys) {
  std::vector<std::string> marks, ids;
  for (const std::string& key : keys) {
    RelayEntry* e = find(key);
    if (e == nullptr) continue;
    ids.push_back(e->id);
    if (e->finalize == Finalize::kAckDelivered && settings_.dedup_ttl_s > 0)
      marks.push_back(settings_.dedup_prefix + std::string(e->event_id));
  }
  if (ids.empty()) return;
  std::vector<std::string> args;
  if (marks.empty()) {
    args = {"XACK", settings_.streams[s], settings_.group};
  } else {
    args = {"EVAL", kAckScript, std::to_string(marks.size() + 1), settings_.streams[s]};
    for (std::string& m : marks) args.push_back(std::move(m));
    args.push_back(settings_.group);
    args.push_back(std::to_string(settings_.dedup_ttl_s));
  }
  for (std::string& id : ids) args.push_back(std::move(id));
  command(args, [this, keys = std::move(keys)](const RedisResult& r) {
    for (const std::string& key : keys) on_finalized(key, r);
  });
}

void Relay::on_finalized(const std::string& key, const RedisResult& r) {
  RelayEntry* e = find(key);
  if (e == nullptr) return;
  if (r.status == RedisStatus::kOk) {
    forget(e);
    return;
  }
  if (is_nogroup(r)) {
    // The group (and its pending list) is gone: nothing is left to ack.
    // The recreated group starts from STREAMSHIFT_RELAY_GROUP_START; the
    // delivered mark, when written, keeps a re-read from a second delivery.
    forget(e);
    if (groups_ready_) group_lost("XACK");
    return;
  }
  log_line(LogLevel::kWarn, "cannot finalize entry; will retry",
           {{"stream", settings_.streams[e->stream_index]},
            {"id", e->id},
            {"action", finalize_name(e->finalize)},
            {"error", describe(r)}});
  if (draining_ && closing_) {
    release(e);
    return;
  }
  e->stage = EntryStage::kFinalizeBackoff;
  schedule(e, retry_delay_ms(1, 200, 200, next_random()));
}

void Relay::release(RelayEntry* e) {
  // Not acked: the entry stays pending in Redis under this consumer, for
  // this relay's next start (own pending first) or another's XAUTOCLAIM.
  if (e->in_room) rooms_.finish(e);
  forget(e);
}

void Relay::forget(RelayEntry* e) {
  if (in_budget(*e)) budget_.left(e->room_key());
  std::string key = key_of(*e);
  dead_letter_reasons_.erase(key);
  held_.erase(key);
  metrics_.held.Set(static_cast<double>(held_.size()));
  maybe_read();
  maybe_scan();
  maybe_finish_drain();
}

// ---------------------------------------------------------------- retries

void Relay::schedule(RelayEntry* e, uint64_t delay_ms) {
  retries_.emplace(uv_now(loop_) + delay_ms, key_of(*e));
  arm_retry_timer();
}

void Relay::arm_retry_timer() {
  if (retries_.empty() || closing_) {
    uv_timer_stop(&retry_timer_);
    return;
  }
  uint64_t now = uv_now(loop_);
  uint64_t due = retries_.begin()->first;
  uv_timer_start(
      &retry_timer_, [](uv_timer_t* t) { static_cast<Relay*>(t->data)->on_retry_due(); },
      due > now ? due - now : 0, 0);
}

void Relay::on_retry_due() {
  uint64_t now = uv_now(loop_);
  while (!retries_.empty() && retries_.begin()->first <= now) {
    std::string key = std::move(retries_.begin()->second);
    retries_.erase(retries_.begin());
    RelayEntry* e = find(key);
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

void Relay::drain(std::function<void()> on_stopped) {
  if (draining_) return;
  draining_ = true;
  on_stopped_ = std::move(on_stopped);
  metrics_.draining.Set(1);
  log_line(LogLevel::kInfo, "draining: reading stopped, finishing deliveries in flight",
           {{"held", static_cast<int64_t>(held_.size())}});
  uv_timer_stop(&claim_timer_);
  uv_timer_stop(&lag_timer_);
  uv_timer_stop(&read_retry_timer_);
  uv_timer_stop(&scan_retry_timer_);
  // A blocked XREADGROUP is cut: whatever it would have returned stays
  // pending under this consumer.
  ++handles_open_;
  reader_.shutdown([this] { handle_closed(); });
  reader_.close_now();
  // Entries not yet started, or waiting to retry a delivery, stay pending.
  rooms_.drop_waiting([this](RelayEntry* e) { forget(e); });
  std::vector<RelayEntry*> waiting;
  for (auto& [key, e] : held_) {
    if (e->stage == EntryStage::kBackoff || e->stage == EntryStage::kQueued)
      waiting.push_back(e.get());
  }
  for (RelayEntry* e : waiting) release(e);
  uv_timer_start(
      &drain_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<Relay*>(t->data);
        log_line(LogLevel::kWarn, "drain timeout: leaving the rest pending",
                 {{"held", static_cast<int64_t>(self->held_.size())}});
        self->close_everything();
      },
      settings_.drain_timeout_ms, 0);
  maybe_finish_drain();
}

void Relay::maybe_finish_drain() {
  if (!draining_ || closing_) return;
  for (auto& [key, e] : held_) {
    if (e->stage != EntryStage::kFinalizeBackoff) return;  // still working on it
  }
  close_everything();
}

void Relay::close_everything() {
  if (closing_) return;
  closing_ = true;
  retries_.clear();
  for (uv_timer_t* t : {&read_retry_timer_, &retry_timer_, &claim_timer_, &refresh_timer_,
                        &lag_timer_, &drain_timer_, &scan_retry_timer_}) {
    close_handle(reinterpret_cast<uv_handle_t*>(t),
                 [](uv_handle_t* h) { static_cast<Relay*>(h->data)->handle_closed(); });
  }
  flush_acks();  // acks queued this turn go out before the connection closes
  close_handle(reinterpret_cast<uv_handle_t*>(&ack_flush_),
               [](uv_handle_t* h) { static_cast<Relay*>(h->data)->handle_closed(); });
  handles_open_ += 2;
  target_.shutdown([this] { handle_closed(); });
  commands_.shutdown([this] { handle_closed(); });
  commands_.close_now();
}

void Relay::handle_closed() {
  if (--handles_open_ > 0) return;
  held_.clear();
  log_line(LogLevel::kInfo, "relay stopped");
  if (on_stopped_) {
    auto done = std::move(on_stopped_);
    on_stopped_ = nullptr;
    done();
  }
}

}  // namespace streamshift
