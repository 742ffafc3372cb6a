// Fakes behind the event path's interfaces (clock, links, sender), for the router's and
// the sender's unit tests: no loop, no network, time moved by hand.
#pragma once

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/http_request_reader.h"
#include "core/metrics.h"
#include "proxy/event_accounting.h"
#include "proxy/event_clock.h"
#include "proxy/event_links.h"
#include "proxy/event_sender.h"
#include "proxy/proxy_metrics.h"

namespace streamshift::testing {

class FakeClock final : public EventClock {
 public:
  uint64_t now_ms() const override { return now; }
  void wake_at(uint64_t due_ms) override { due = stopped ? 0 : due_ms; }
  void stop() override {
    stopped = true;
    due = 0;
  }
  /// Moves time to `t`, running the wake-up if it is due by then.
  void advance_to(uint64_t t) {
    now = t;
    if (due != 0 && due <= now) {
      due = 0;
      wake();
    }
  }

  uint64_t now = 1000;
  uint64_t due = 0;
  bool stopped = false;
};

/// Records every call; XADDs are completed by hand (complete_xadd).
class FakeLinks final : public EventLinks {
 public:
  struct Xadd {
    std::string stream, event_id, event_type, room_id, body;
    RedisCallback done;
    void* data;
    uint8_t replicas;
    bool completed = false;
  };
  struct Forward {
    Exchange* client;
    std::string headers, event_id;
    HttpTally tally;
  };
  struct HeldSend {
    std::string event_id, body;
    HttpTally tally;
    std::function<void(bool)> done;
  };
  struct Reply {
    Exchange* client;
    Answer answer;
  };

  bool has_redis() const override { return redis; }
  size_t redis_ready() const override { return redis ? ready : 0; }
  void xadd(const StreamEntry& e, RedisCallback done, void* data) override {
    const EventEntry& c = e.contract;
    xadds.push_back({std::string(e.stream), std::string(c.event_id), std::string(c.event_type),
                     std::string(c.room_id), std::string(c.body), done, data, e.replicas, false});
  }
  void forward(Exchange& client, std::string headers, std::string_view event_id,
               HttpTally tally) override {
    forwards.push_back({&client, std::move(headers), std::string(event_id), tally});
  }
  void send_held(Event& event, HttpTally tally, std::function<void(bool)> done) override {
    std::string id = event.fields.event_id;
    held_sends.push_back({std::move(id), event.take_body(), tally, std::move(done)});
  }
  void respond(Exchange& client, Answer answer) override {
    replies.push_back({&client, std::move(answer)});
  }

  /// Completes XADD `i` with a string reply (the entry id) ...
  void store(size_t i, const std::string& entry_id) {
    redisReply reply{};
    reply.type = REDIS_REPLY_STRING;
    reply.str = const_cast<char*>(entry_id.c_str());
    reply.len = entry_id.size();
    complete(i, {RedisStatus::kOk, &reply, {}});
  }
  /// ... or with any other answer.
  void complete(size_t i, const RedisResult& result) {
    Xadd& x = xadds.at(i);
    if (x.completed) return;
    x.completed = true;
    RedisCallback done = x.done;
    done(x.data, result);  // may add XADDs: `x` is not used after this
  }
  void fail(size_t i, RedisStatus status) { complete(i, {status, nullptr, {}}); }
  /// Ends every XADD still in flight (a test's end: each owns its event).
  void fail_the_rest() {
    for (size_t i = 0; i < xadds.size(); ++i) fail(i, RedisStatus::kConnectionLost);
  }

  bool redis = true;
  size_t ready = 1;
  std::vector<Xadd> xadds;
  std::vector<Forward> forwards;
  std::vector<HeldSend> held_sends;
  std::vector<Reply> replies;
};

class FakeSender final : public EventSender {
 public:
  void send(Event&& event) override { sent.push_back(std::move(event)); }
  bool may_hold() const override { return holding_allowed; }
  void when_idle(std::function<void()> on_idle) override { idle = std::move(on_idle); }

  bool holding_allowed = true;
  std::vector<Event> sent;
  std::function<void()> idle;
};

/// A request as the ingress reads it.
inline std::unique_ptr<HttpRequest> parse_request(const std::string& raw) {
  HttpRequestReader reader{HttpRequestReader::Limits{}};
  size_t used = 0;
  if (reader.consume(raw.data(), raw.size(), &used) != HttpRequestReader::Progress::kComplete)
    return nullptr;
  return std::make_unique<HttpRequest>(reader.request());
}

inline std::unique_ptr<HttpRequest> post(const std::string& path, const std::string& body,
                                         const std::string& headers = "") {
  return parse_request("POST " + path +
                       " HTTP/1.1\r\nHost: app\r\nContent-Type: application/json\r\n" + headers +
                       "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

/// The real accounting on a registry of its own (one worker).
struct Counts {
  explicit Counts(const TransportSettings& settings)
      : metrics(registry, settings, 1), accounting(metrics, 0) {}

  uint64_t get(Outcome outcome) const { return accounting.stats().get(outcome); }
  uint64_t of_type(const std::string& type, Outcome outcome) {
    return accounting.stats().get_type(accounting.type(type)->slot, outcome);
  }
  /// The /metrics line's value for `series` (name{labels}), or -1.
  double sample(const std::string& series) const {
    std::string text = registry.Serialize();
    size_t at = text.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + series.size() + 2));
  }

  Registry registry;
  ProxyMetrics metrics;
  EventAccounting accounting;
};

/// The parts every event-path test needs: settings (streams on, 100%), the fakes, a
/// stand-in client, the real accounting, and the real sender when a test wants it.
template <typename Base = ::testing::Test>
class EventPathTest : public Base {
 protected:
  EventPathTest() {
    settings_.use_redis_streams = true;
    settings_.redis_percentage = 100;
  }
  // Every XADD owns its event until completed: end them while the sender lives.
  ~EventPathTest() override { links_.fail_the_rest(); }

  /// Created on first use, with the settings as they are then.
  Counts& counts() {
    if (!counts_) counts_ = std::make_unique<Counts>(settings_);
    return *counts_;
  }
  EventSenderImpl& sender() {
    if (!sender_)
      sender_ = std::make_unique<EventSenderImpl>(settings_, clock_, links_, counts().accounting);
    return *sender_;
  }
  /// Keeps `request` alive for the test, as its exchange would.
  HttpRequest& keep(std::unique_ptr<HttpRequest> request) {
    EXPECT_TRUE(request);
    requests_.push_back(std::move(request));
    return *requests_.back();
  }

  TransportSettings settings_;
  FakeLinks links_;
  FakeClock clock_;
  Exchange client_{nullptr};  // a stand-in: only the fakes see it
  std::unique_ptr<Counts> counts_;
  std::unique_ptr<EventSenderImpl> sender_;
  std::vector<std::unique_ptr<HttpRequest>> requests_;
};

}  // namespace streamshift::testing
