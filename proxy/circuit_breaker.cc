// Circuit breaker; see circuit_breaker.h.
#include "proxy/circuit_breaker.h"

namespace streamshift {

CircuitBreaker::Decision CircuitBreaker::decide(uint64_t now_ms) {
  switch (state_) {
    case State::kClosed:
      return Decision::kAllow;
    case State::kOpen:
      if (now_ms < open_until_) return Decision::kReject;
      state_ = State::kHalfOpen;
      probe_in_flight_ = true;
      return Decision::kProbe;
    case State::kHalfOpen:
      return probe_in_flight_ ? Decision::kReject : Decision::kProbe;
  }
  return Decision::kAllow;
}

void CircuitBreaker::record_success() {
  consecutive_failures_ = 0;
  probe_in_flight_ = false;
  state_ = State::kClosed;
}

void CircuitBreaker::record_failure(uint64_t now_ms) {
  probe_in_flight_ = false;
  if (state_ == State::kHalfOpen || ++consecutive_failures_ >= threshold_) {
    if (state_ != State::kOpen) ++times_opened_;
    state_ = State::kOpen;
    open_until_ = now_ms + open_ms_;
    consecutive_failures_ = 0;
  }
}

}  // namespace streamshift
