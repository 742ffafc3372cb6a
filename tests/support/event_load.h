// Steady load through the sidecar for fault-injection tests: `senders`
// threads, each on its own keep-alive connection, post chat events at a
// fixed total rate until stopped. Every event carries a unique event_id
// (prefix-<sender>-<seq>) so it can be traced into the stream and to the
// target, and every outcome is recorded: the status, or 0 for no answer.
//
// A sender that falls behind (a slow answer) sends its next event at once
// instead of skipping it; a connection that fails is replaced.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace streamshift::testing {

struct EventOutcome {
  std::string event_id;
  int status = 0;  // 0: no answer (refused, reset, timed out)
  std::chrono::steady_clock::time_point sent, answered;
  std::string transport;  // X-Event-Transport of the answer
  std::string body;       // of the answer: a refusal's JSON says why
  bool acked() const { return status >= 200 && status < 300; }
};

struct EventLoadOptions {
  uint16_t port = 0;  // the sidecar's
  int rate = 100;     // events per second, all senders together
  int senders = 4;
  int rooms = 8;
  std::string prefix = "ev";
  std::chrono::milliseconds answer_timeout{5000};
};

class EventLoad {
 public:
  explicit EventLoad(EventLoadOptions options);
  ~EventLoad();
  EventLoad(const EventLoad&) = delete;
  EventLoad& operator=(const EventLoad&) = delete;

  /// Stops sending and waits for the answers still awaited; idempotent.
  void stop();
  /// The outcomes recorded so far, in no particular order.
  std::vector<EventOutcome> outcomes() const;
  size_t count(const std::function<bool(const EventOutcome&)>& which) const;

 private:
  void send_loop(int sender);

  EventLoadOptions options_;
  std::chrono::steady_clock::time_point started_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::vector<EventOutcome> outcomes_;
  std::vector<std::thread> threads_;  // last: joined before the members above go
};

}  // namespace streamshift::testing
