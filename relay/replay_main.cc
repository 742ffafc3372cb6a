// `streamshift replay`; see replay_main.h.
//
//   connect (Redis ready, or exit 3 after the connect deadline)
//     -> per physical stream: read a page (XRANGE, retried with backoff)
//          -> drop malformed / filtered out -> [--skip-delivered: MGET marks]
//          -> deliver the page in the relay's lanes (replay_turns.h: with
//             STREAMSHIFT_RELAY_ORDERING=room one entry at a time per room, in
//             stream order), up to STREAMSHIFT_RELAY_CONCURRENCY lanes at once,
//             each start taking a --rate token; retryable outcomes back off and
//             retry up to STREAMSHIFT_MAX_DELIVERIES attempts (next_step(), as
//             the relay decides)
//          -> next page once every entry of this one is finished
//     -> summary; close everything; exit status
//
// A page is finished before the next is read, so a room's order holds
// across pages and memory holds one page (STREAMSHIFT_RELAY_READ_COUNT).
#include "relay/replay_main.h"

#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/backoff.h"
#include "core/config_report.h"
#include "core/env_config.h"
#include "core/loop.h"
#include "core/printable.h"
#include "core/process_runner.h"
#include "core/redis_client_factory.h"
#include "core/redis_url.h"
#include "core/token_bucket.h"
#include "relay/dedup.h"
#include "relay/delivery_policy.h"
#include "relay/delivery_target.h"
#include "relay/relay_redis.h"
#include "relay/replay_args.h"
#include "relay/replay_range.h"
#include "relay/replay_turns.h"

namespace streamshift {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitRedis = 3;
constexpr int kRedisAttempts = 5;  // per page read or mark lookup
constexpr uint64_t kConnectPollMs = 20;
constexpr uint64_t kProgressMs = 250;

class Replay {
 public:
  Replay(uv_loop_t* loop, const RelaySettings& settings, const ReplayArgs& args,
         std::vector<size_t> streams, FILE* answer)
      : loop_(loop),
        answer_(answer),
        settings_(settings),
        args_(args),
        streams_(std::move(streams)),
        redis_(make_redis_client(loop, relay_redis_options(settings, "replay"))),
        target_(loop, settings),
        backoff_{settings.retry_initial_ms, settings.retry_max_ms},
        random_(JitterRandom::seeded(reinterpret_cast<uintptr_t>(this))),
        started_ms_(uv_now(loop)) {
    if (args.rate > 0) {
      // A burst of 10 ms' worth (at least one): the loop's timers tick in ms.
      bucket_.emplace(static_cast<double>(args.rate),
                      std::max(1.0, static_cast<double>(args.rate) / 100.0), uv_now(loop));
    }
    uv_timer_init(loop, &connect_timer_);
    uv_timer_init(loop, &wake_timer_);
    uv_timer_init(loop, &progress_timer_);
    connect_timer_.data = wake_timer_.data = progress_timer_.data = this;
  }

  void start() {
    redis_->start();
    connect_deadline_ =
        uv_now(loop_) + settings_.redis_connect_timeout_ms + settings_.redis_timeout_ms;
    uv_timer_start(
        &connect_timer_, [](uv_timer_t* t) { static_cast<Replay*>(t->data)->check_connected(); }, 0,
        kConnectPollMs);
    if (isatty(STDERR_FILENO)) {
      uv_timer_start(
          &progress_timer_, [](uv_timer_t* t) { static_cast<Replay*>(t->data)->print_progress(); },
          kProgressMs, kProgressMs);
    }
  }

  int exit_status() const { return exit_; }

 private:
  void check_connected() {
    if (redis_->ready_connections() > 0) {
      uv_timer_stop(&connect_timer_);
      open_stream();
      return;
    }
    if (uv_now(loop_) >= connect_deadline_) {
      uv_timer_stop(&connect_timer_);
      std::string why = redis_->last_error();
      abort(kExitRedis, "cannot reach Redis at " + redacted_redis_url(settings_.redis) +
                            (why.empty() ? "" : ": " + why));
    }
  }

  void open_stream() {
    if (next_stream_ == streams_.size()) return finish();
    size_t index = streams_[next_stream_++];
    range_ = std::make_unique<ReplayRange>(*redis_, index, settings_.streams[index], args_.from_id,
                                           args_.to_id, static_cast<size_t>(settings_.read_count),
                                           settings_.redis_timeout_ms);
    read_page();
  }

  void read_page() {
    range_->next([this](const RedisResult& r, std::vector<std::unique_ptr<RelayEntry>> entries) {
      if (r.status != RedisStatus::kOk)
        return redis_failed(r, "XRANGE " + settings_.streams[current_stream()],
                            [this] { read_page(); });
      redis_attempts_ = 0;
      take_page(std::move(entries));
    });
  }

  size_t current_stream() const { return streams_[next_stream_ - 1]; }

  // A failed command is tried again after a backoff, kRedisAttempts times.
  void redis_failed(const RedisResult& r, const std::string& what, std::function<void()> again) {
    if (++redis_attempts_ >= kRedisAttempts) {
      return abort(kExitRedis, what + " failed: " + describe(r) + " (after " +
                                   std::to_string(redis_attempts_) + " attempts)");
    }
    redis_retry_ = std::move(again);
    uv_timer_start(
        &connect_timer_,
        [](uv_timer_t* t) {
          auto* self = static_cast<Replay*>(t->data);
          std::function<void()> retry = std::move(self->redis_retry_);
          retry();
        },
        backoff_.delay_ms(static_cast<uint32_t>(redis_attempts_), random_), 0);
  }

  void take_page(std::vector<std::unique_ptr<RelayEntry>> entries) {
    page_.clear();
    for (std::unique_ptr<RelayEntry>& e : entries) {
      ++read_;
      if (!e->malformed.empty()) {
        ++skipped_;
        std::fprintf(stderr, "%sskipped %s %s: malformed: %s\n", line_break(),
                     settings_.streams[e->stream_index].c_str(), e->id.c_str(),
                     printable(e->malformed).c_str());
        continue;
      }
      if (!args_.selects(e->event)) {
        ++filtered_;
        continue;
      }
      page_.push_back(std::move(e));
    }
    if (args_.skip_delivered && !page_.empty()) return check_marks();
    deliver_page();
  }

  // One MGET of the page's delivered marks: every entry of a page is of one
  // stream, so the marks share one hash tag (one slot on a cluster).
  void check_marks() {
    std::vector<std::string> keys;
    keys.reserve(page_.size());
    for (const auto& e : page_)
      keys.push_back(
          delivered_mark_key(settings_, settings_.streams[e->stream_index], e->event.event_id));
    std::vector<const char*> argv = {"MGET"};
    std::vector<size_t> lens = {4};
    for (const std::string& k : keys) {
      argv.push_back(k.data());
      lens.push_back(k.size());
    }
    redis_->command(static_cast<int>(argv.size()), argv.data(), lens.data(),
                    settings_.redis_timeout_ms, &Replay::on_marks, this);
  }

  static void on_marks(void* data, const RedisResult& r) {
    auto* self = static_cast<Replay*>(data);
    if (r.status != RedisStatus::kOk || r.reply->type != REDIS_REPLY_ARRAY ||
        r.reply->elements != self->page_.size()) {
      RedisResult bad = r;
      if (r.status == RedisStatus::kOk)
        bad = {RedisStatus::kErrorReply, r.reply, "unexpected MGET reply"};
      return self->redis_failed(bad, "MGET of delivered marks", [self] { self->check_marks(); });
    }
    self->redis_attempts_ = 0;
    std::vector<std::unique_ptr<RelayEntry>> unmarked;
    for (size_t i = 0; i < self->page_.size(); ++i) {
      if (r.reply->element[i]->type == REDIS_REPLY_NIL)
        unmarked.push_back(std::move(self->page_[i]));
      else
        ++self->skipped_;
    }
    self->page_ = std::move(unmarked);
    self->deliver_page();
  }

  void deliver_page() {
    if (args_.dry_run) {
      for (const auto& e : page_) {
        ++listed_;
        // Stream-controlled text is escaped: a terminal never runs what a
        // writer of the stream put there.
        std::fprintf(answer_, "%s %s room=%s event_type=%s\n",
                     settings_.streams[e->stream_index].c_str(), e->id.c_str(),
                     printable(e->event.room_id).c_str(), printable(e->event.event_type).c_str());
      }
      page_.clear();
    }
    unfinished_ = page_.size();
    for (const auto& e : page_) turns_.add(e.get());
    pump();
  }

  // Starts what may start now (retries that are due first, then the next
  // entry of each idle room) while a slot and a rate token are there. A
  // delivery failing inside send() comes back here: it only asks for
  // another round.
  void pump() {
    if (pumping_) {
      pump_again_ = true;
      return;
    }
    pumping_ = true;
    do {
      pump_again_ = false;
      start_deliveries();
    } while (pump_again_);
    pumping_ = false;
    if (unfinished_ == 0) return page_finished();
    arm_wake();
  }

  void start_deliveries() {
    uint64_t now = uv_now(loop_);
    turns_.release_due(now);
    while (turns_.startable()) {
      if (bucket_ && !bucket_->take(now)) return;
      send(turns_.next());
    }
  }

  // The wake timer: the next retry's due time, or the next rate token.
  void arm_wake() {
    uint64_t now = uv_now(loop_);
    std::optional<uint64_t> wait;
    if (std::optional<uint64_t> due = turns_.next_due()) wait = *due - std::min(now, *due);
    if (bucket_ && turns_.startable()) {
      uint64_t token = std::max<uint64_t>(1, bucket_->wait_ms(now));
      wait = wait ? std::min(*wait, token) : token;
    }
    if (wait) {
      uv_timer_start(
          &wake_timer_, [](uv_timer_t* t) { static_cast<Replay*>(t->data)->pump(); }, *wait, 0);
    }
  }

  void send(RelayEntry* e) {
    ++e->attempts;
    auto request = std::make_unique<UpstreamRequest>();
    request->head = replay_request_head(*e, settings_.target, settings_.target_headers);
    request->borrowed_body = e->event.body;
    request->on_done = [this, e](UpstreamResponse& response) { delivered(e, response); };
    target_.send(std::move(request));
  }

  void delivered(RelayEntry* e, const UpstreamResponse& response) {
    NextStep step = next_step(classify_delivery(response), e->attempts, settings_.max_deliveries);
    if (step == NextStep::kRetry && !aborting_) {
      uint64_t due = uv_now(loop_) + backoff_.delay_ms(static_cast<uint32_t>(e->attempts), random_);
      turns_.retry_at(e, due);
    } else {
      if (step == NextStep::kDone) {
        ++delivered_;
      } else {
        ++failed_;
        std::string why = failure_text(response);
        std::fprintf(stderr, "%sfailed %s %s (event_id %s): %s after %d attempt%s\n", line_break(),
                     settings_.streams[e->stream_index].c_str(), e->id.c_str(),
                     printable(e->event.event_id).c_str(), printable(why).c_str(), e->attempts,
                     e->attempts == 1 ? "" : "s");
      }
      turns_.finished(e);
      --unfinished_;
    }
    pump();
  }

  void page_finished() {
    uv_timer_stop(&wake_timer_);
    turns_.clear();
    page_.clear();
    if (range_->finished()) return open_stream();
    read_page();
  }

  // On stderr, a progress line is being rewritten: start a fresh line.
  const char* line_break() {
    if (!progress_shown_) return "";
    progress_shown_ = false;
    return "\n";
  }

  void print_progress() {
    std::fprintf(stderr, "\rreplay: read %zu, delivered %zu, failed %zu, skipped %zu", read_,
                 delivered_, failed_, skipped_);
    std::fflush(stderr);
    progress_shown_ = true;
  }

  void finish() {
    if (progress_shown_) print_progress();
    std::fprintf(stderr, "%s", line_break());
    double seconds = static_cast<double>(uv_now(loop_) - started_ms_) / 1000.0;
    std::fprintf(
        answer_,
        "delivered %zu, failed %zu, skipped %zu in %.2f s (read %zu, filtered out %zu%s)\n",
        delivered_, failed_, skipped_, seconds, read_, filtered_,
        args_.dry_run ? (", dry run: " + std::to_string(listed_) + " would be delivered").c_str()
                      : "");
    std::fflush(answer_);
    exit_ = failed_ > 0 ? kExitFailed : 0;
    close();
  }

  void abort(int status, const std::string& why) {
    aborting_ = true;
    std::fprintf(stderr, "%sstreamshift replay: %s\n", line_break(), why.c_str());
    exit_ = status;
    close();
  }

  void close() {
    uv_close(reinterpret_cast<uv_handle_t*>(&connect_timer_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&wake_timer_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&progress_timer_), nullptr);
    target_.shutdown([] {});
    redis_->shutdown([] {});
  }

  uv_loop_t* loop_;
  FILE* answer_;  // the original stdout
  const RelaySettings& settings_;
  const ReplayArgs& args_;
  std::vector<size_t> streams_;
  size_t next_stream_ = 0;
  std::unique_ptr<RedisCommands> redis_;
  UpstreamTarget target_;
  Backoff backoff_;
  JitterRandom random_;
  std::optional<TokenBucket> bucket_;
  uv_timer_t connect_timer_;  // connection wait, then Redis retries
  uv_timer_t wake_timer_;     // delivery retries and rate tokens
  uv_timer_t progress_timer_;
  uint64_t connect_deadline_ = 0;
  uint64_t started_ms_;
  int redis_attempts_ = 0;
  std::function<void()> redis_retry_;

  std::unique_ptr<ReplayRange> range_;
  std::vector<std::unique_ptr<RelayEntry>> page_;                 // the page being delivered
  ReplayTurns turns_{settings_.concurrency, settings_.ordering};  // of page_'s entries
  size_t unfinished_ = 0;  // entries of the page not finished
  bool aborting_ = false;
  bool pumping_ = false;
  bool pump_again_ = false;
  bool progress_shown_ = false;

  size_t read_ = 0, delivered_ = 0, failed_ = 0, skipped_ = 0, filtered_ = 0, listed_ = 0;
  int exit_ = 0;
};

int usage_error(const std::string& why) {
  std::fprintf(stderr, "streamshift replay: %s\n\n%.*s", why.c_str(),
               static_cast<int>(kReplayUsage.size()), kReplayUsage.data());
  return 2;
}

int replay_main(const std::vector<std::string_view>& argv, FILE* answer) {
  ReplayArgs args;
  if (std::string why = parse_replay_args(argv, wall_clock_ms(), &args); !why.empty())
    return usage_error(why);
  if (args.help) {
    std::fprintf(answer, "%.*s", static_cast<int>(kReplayUsage.size()), kReplayUsage.data());
    return 0;
  }
  EnvReader env;
  RelaySettings settings = load_relay_settings(env);
  load_relay_headers(env, settings);  // the relay's own request, headers file included
  if (!env.ok()) return refuse_to_start(env, "streamshift replay");
  std::vector<size_t> streams = replay_streams(settings, args.stream);
  if (streams.empty()) {
    std::string known;
    StreamShards layout = settings.shard_layout();
    for (const std::string& s : layout.logical()) known += (known.empty() ? "" : ", ") + s;
    std::fprintf(stderr,
                 "streamshift replay: stream '%s' is neither a stream of STREAMSHIFT_STREAMS (%s) "
                 "nor one of their shards\n",
                 args.stream.c_str(), known.c_str());
    return 2;
  }
  // A command's stderr is read by a person: the relay's info lines (Redis
  // connected) would be noise there; LOG_LEVEL=debug still shows everything.
  prepare_process(settings.log_level == LogLevel::kInfo ? LogLevel::kWarn : settings.log_level);
  uv_loop_t loop;
  uv_loop_init(&loop);
  int status;
  {
    Replay replay(&loop, settings, args, std::move(streams), answer);
    replay.start();
    uv_run(&loop, UV_RUN_DEFAULT);
    status = replay.exit_status();
  }
  close_loop(&loop);
  return status;
}

}  // namespace

int run_replay(const std::vector<std::string_view>& argv) {
  // stdout holds the answer (the dry run's list, the summary); log lines go
  // to stderr with the progress.
  set_log_output(LogOutput::kStderr);
  return replay_main(argv, stdout);
}

}  // namespace streamshift
