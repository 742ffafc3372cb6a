// A circuit breaker for the Redis path: after `failure_threshold`
// consecutive failures it opens for `open_ms`, sending events straight to
// HTTP without waiting on a timeout; then it lets exactly one probe through,
// whose outcome closes it or opens it again. Time comes from the caller
// (the loop's clock), so tests drive it by hand.
#pragma once

#include <cstdint>

namespace streamshift {

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };
  enum class Decision { kAllow, kProbe, kReject };

  CircuitBreaker(int failure_threshold, uint64_t open_ms)
      : threshold_(failure_threshold), open_ms_(open_ms) {}

  /// Whether a request may try Redis now. kProbe marks the one trial
  /// request after the open period; its outcome must be recorded.
  Decision decide(uint64_t now_ms);
  void record_success();
  void record_failure(uint64_t now_ms);
  /// New settings (a runtime change): an open circuit keeps its reopening time.
  void configure(int failure_threshold, uint64_t open_ms) {
    threshold_ = failure_threshold;
    open_ms_ = open_ms;
  }

  State state() const { return state_; }
  uint64_t times_opened() const { return times_opened_; }

 private:
  int threshold_;
  uint64_t open_ms_;
  State state_ = State::kClosed;
  int consecutive_failures_ = 0;
  uint64_t open_until_ = 0;
  bool probe_in_flight_ = false;
  uint64_t times_opened_ = 0;
};

}  // namespace streamshift
