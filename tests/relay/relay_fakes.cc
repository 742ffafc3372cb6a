// The relay's fakes; see relay_fakes.h.
#include "tests/relay/relay_fakes.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace streamshift::fakes {
namespace {

RedisResult failure(RedisStatus status) {
  RedisResult r;
  r.status = status;
  return r;
}

}  // namespace

// ---------------------------------------------------------------- Redis

void FakeRedis::start(Hooks h) {
  hooks = std::move(h);
  started = true;
}

void FakeRedis::command(const RedisArgs& args, RedisDone done) {
  std::string line;
  for (const std::string& a : args) line += (line.empty() ? "" : " ") + a;
  sent_.push_back(std::move(line));
  pending_.push_back(Call{args, std::move(done), false, 0});
}

void FakeRedis::read(size_t group, const RedisArgs& args, RedisDone done, uint64_t timeout_ms) {
  command(args, std::move(done));
  pending_.back().on_reader = true;
  pending_.back().timeout_ms = timeout_ms;
  pending_.back().group = group;
}

void FakeRedis::close_readers(std::function<void()> on_closed) {
  reader_closed = true;
  reader_up = false;
  for (size_t i = pending_.size(); i-- > 0;) {
    if (pending_[i].on_reader) complete(i, failure(RedisStatus::kConnectionLost));
  }
  on_closed();
}

void FakeRedis::close_commands(std::function<void()> on_closed) {
  commands_closed = true;
  commands_up = false;
  for (size_t i = pending_.size(); i-- > 0;) {
    if (!pending_[i].on_reader) complete(i, failure(RedisStatus::kConnectionLost));
  }
  on_closed();
}

size_t FakeRedis::index_of(const std::string& prefix) const {
  for (size_t i = 0; i < pending_.size(); ++i) {
    std::string line;
    for (const std::string& a : pending_[i].args) {
      line += (line.empty() ? "" : " ") + a;
      if (line.size() >= prefix.size()) break;
    }
    if (line.rfind(prefix, 0) == 0) return i;
  }
  return pending_.size();
}

bool FakeRedis::has(const std::string& prefix) const {
  return index_of(prefix) < pending_.size();
}

size_t FakeRedis::count(const std::string& prefix) const {
  return static_cast<size_t>(std::count_if(
      sent_.begin(), sent_.end(), [&](const std::string& s) { return s.rfind(prefix, 0) == 0; }));
}

const FakeRedis::Call& FakeRedis::find(const std::string& prefix) const {
  size_t i = index_of(prefix);
  static const Call none;
  EXPECT_LT(i, pending_.size()) << "no pending command " << prefix;
  return i < pending_.size() ? pending_[i] : none;
}

void FakeRedis::complete(size_t index, const RedisResult& result) {
  Call call = std::move(pending_[index]);
  pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(index));
  call.done(result);
}

void FakeRedis::answer(const std::string& prefix, const std::string& resp_reply) {
  size_t i = index_of(prefix);
  ASSERT_LT(i, pending_.size()) << "no pending command " << prefix;
  resp::Reply reply = resp::parse(resp_reply);
  RedisResult result;
  result.reply = reply.get();
  if (reply->type == REDIS_REPLY_ERROR) {
    result.status = RedisStatus::kErrorReply;
    result.error = std::string_view(reply->str, reply->len);
  }
  complete(i, result);
}

void FakeRedis::fail(const std::string& prefix, RedisStatus status) {
  size_t i = index_of(prefix);
  ASSERT_LT(i, pending_.size()) << "no pending command " << prefix;
  complete(i, failure(status));
}

// ---------------------------------------------------------------- clock

struct FakeClock::Timer final : RelayTimer {
  FakeClock* clock;
  std::function<void()> fire;
  bool on = false;
  uint64_t due = 0, repeat = 0;

  void start(uint64_t delay_ms, uint64_t repeat_ms) override {
    if (clock->closed_) return;
    on = true;
    due = clock->now_ + delay_ms;
    repeat = repeat_ms;
  }
  void stop() override { on = false; }
  bool active() const override { return on; }
};

struct FakeClock::Task final : TurnEndTask {
  FakeClock* clock;
  std::function<void()> fire;
  bool armed = false;
  void arm() override { armed = !clock->closed_; }
  void disarm() override { armed = false; }
};

FakeClock::FakeClock() = default;
FakeClock::~FakeClock() = default;

RelayTimer& FakeClock::timer(std::function<void()> fire) {
  timers_.push_back(std::make_unique<Timer>());
  timers_.back()->clock = this;
  timers_.back()->fire = std::move(fire);
  return *timers_.back();
}

TurnEndTask& FakeClock::turn_end_task(std::function<void()> fire) {
  tasks_.push_back(std::make_unique<Task>());
  tasks_.back()->clock = this;
  tasks_.back()->fire = std::move(fire);
  return *tasks_.back();
}

void FakeClock::close(std::function<void()> on_closed) {
  closed_ = true;
  for (auto& t : timers_) t->on = false;
  for (auto& t : tasks_) t->armed = false;
  on_closed();
}

uint64_t FakeClock::next_due() const {
  uint64_t due = 0;
  for (const auto& t : timers_) {
    if (t->on && (due == 0 || t->due < due)) due = t->due;
  }
  return due;
}

void FakeClock::advance(uint64_t ms) {
  uint64_t until = now_ + ms;
  for (;;) {
    Timer* next = nullptr;
    for (auto& t : timers_) {
      if (t->on && t->due <= until && (next == nullptr || t->due < next->due)) next = t.get();
    }
    if (next == nullptr) break;
    now_ = std::max(now_, next->due);
    if (next->repeat != 0)
      next->due = now_ + next->repeat;
    else
      next->on = false;
    next->fire();
  }
  now_ = until;
}

void FakeClock::end_turn() {
  for (auto& t : tasks_) {
    if (!t->armed) continue;
    t->armed = false;
    t->fire();
  }
}

// ---------------------------------------------------------------- target

void FakeTarget::send(std::unique_ptr<UpstreamRequest> request) {
  ++sent_;
  if (shut_down) {
    UpstreamResponse r;
    r.error = UpstreamError::kShutdown;
    request->on_done(r);
    return;
  }
  requests_.push_back(std::move(request));
}

void FakeTarget::shutdown(std::function<void()> on_closed) {
  shut_down = true;
  while (!requests_.empty()) {
    std::unique_ptr<UpstreamRequest> request = std::move(requests_.front());
    requests_.pop_front();
    UpstreamResponse r;
    r.error = UpstreamError::kShutdown;
    request->on_done(r);
  }
  on_closed();
}

void FakeTarget::answer(const std::string& needle, int status, UpstreamError error) {
  auto it = std::find_if(requests_.begin(), requests_.end(),
                         [&](const auto& r) { return r->head.find(needle) != std::string::npos; });
  ASSERT_NE(it, requests_.end()) << "no request in flight with " << needle;
  std::unique_ptr<UpstreamRequest> request = std::move(*it);
  requests_.erase(it);
  UpstreamResponse r;
  r.status = status;
  r.error = error;
  request->on_done(r);
}

// ---------------------------------------------------------------- entries

RelaySettings test_settings() {
  RelaySettings s;
  s.target = HttpUrl{.host = "signalr", .port = 80, .path_prefix = "", .authority = "signalr"};
  s.streams = {"events:a", "events:b"};
  s.group = "g";
  s.consumer = "me";
  s.read_count = 10;
  s.concurrency = 4;
  s.max_deliveries = 3;
  s.claim_idle_ms = 3000;
  s.retry_initial_ms = 100;
  s.retry_max_ms = 1000;
  s.block_ms = 2000;
  s.redis_timeout_ms = 500;
  s.drain_timeout_ms = 5000;
  return s;
}

void PartsTest::answer_group_creation() {
  for (const std::string& stream : settings_.streams)
    redis_.answer("XGROUP CREATE " + stream, resp::status("OK"));
}

std::string entry_resp(const std::string& id, const std::string& room, const std::string& event_id,
                       const std::vector<std::string>& extra) {
  std::vector<std::string> fields({"v", "1", "event_id", event_id.empty() ? "ev-" + id : event_id,
                                   "event_type", "chat", "room_id", room, "ts_ms", "1700000000000",
                                   "method", "POST", "path", "/api/x", "content_type",
                                   "application/json", "body", "{}"});
  fields.insert(fields.end(), extra.begin(), extra.end());
  return resp::array({resp::bulk(id), resp::bulks(fields)});
}

std::string read_resp(const std::string& stream, const std::vector<std::string>& entry_resps) {
  return resp::array({resp::array({resp::bulk(stream), resp::array(entry_resps)})});
}

std::vector<std::unique_ptr<RelayEntry>> entries(size_t stream_index,
                                                 const std::vector<std::string>& entry_resps) {
  resp::Reply r = resp::parse(resp::array(entry_resps));
  std::vector<std::unique_ptr<RelayEntry>> out;
  parse_entries(r.get(), stream_index, out);
  return out;
}

}  // namespace streamshift::fakes
