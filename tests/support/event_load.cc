// Steady event load with per-event outcomes; see event_load.h.
#include "tests/support/event_load.h"

#include <memory>
#include <optional>

#include "tests/support/net.h"

namespace streamshift::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string chat_request(const std::string& event_id, const std::string& room) {
  std::string body = "{\"event_type\":\"chat_message\",\"room_id\":\"" + room +
                     "\",\"user_id\":\"u-1\",\"event_id\":\"" + event_id +
                     "\",\"text\":\"steady load\"}";
  return make_request("POST", "/internal/broadcast/chat", body,
                      "Content-Type: application/json\r\n");
}

}  // namespace

EventLoad::EventLoad(EventLoadOptions options)
    : options_(std::move(options)), started_(Clock::now()) {
  for (int i = 0; i < options_.senders; ++i) threads_.emplace_back([this, i] { send_loop(i); });
}

EventLoad::~EventLoad() {
  stop();
}

void EventLoad::stop() {
  stopping_ = true;
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void EventLoad::send_loop(int sender) {
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(options_.senders) / options_.rate));
  // Senders start a fraction of the interval apart: together, a steady rate.
  Clock::time_point due = started_ + interval * sender / options_.senders;
  std::unique_ptr<TestClient> client;
  for (long seq = 0; !stopping_; ++seq, due += interval) {
    // Pacing an open loop, not waiting for an event.
    std::this_thread::sleep_until(due);
    if (stopping_) break;
    if (!client || !client->connected()) client = std::make_unique<TestClient>(options_.port);
    EventOutcome o;
    o.event_id = options_.prefix + "-" + std::to_string(sender) + "-" + std::to_string(seq);
    o.sent = Clock::now();
    std::optional<ParsedResponse> r;
    if (client->connected()) {
      r = client->request(
          chat_request(o.event_id, "room-" + std::to_string((seq + sender) % options_.rooms)),
          options_.answer_timeout);
    }
    o.answered = Clock::now();
    if (r) {
      o.status = r->status;
      o.transport = r->header("X-Event-Transport").value_or("");
      o.body = std::move(r->body);
      if (iequal(r->header("Connection").value_or(""), "close")) client.reset();
    } else {
      client.reset();  // its state is unknown after a failure
    }
    if (o.answered > due + interval) due = o.answered - interval;  // behind: no burst to catch up
    std::lock_guard<std::mutex> lock(mu_);
    outcomes_.push_back(std::move(o));
  }
}

std::vector<EventOutcome> EventLoad::outcomes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return outcomes_;
}

size_t EventLoad::count(const std::function<bool(const EventOutcome&)>& which) const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const EventOutcome& o : outcomes_) n += which(o) ? 1 : 0;
  return n;
}

}  // namespace streamshift::testing
