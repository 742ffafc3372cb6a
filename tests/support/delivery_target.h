// The SignalR stand-in of end-to-end tests: a TestUpstream that records,
// per X-Event-Id, every request it answered 2xx (when, and whether the
// relay or the sidecar's HTTP bridge sent it), with a switchable answer.
// One target can be the sidecar's upstream (bridge, fallback) and the
// relay's target at once.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/test_upstream.h"

namespace streamshift::testing {

struct Delivery {
  std::chrono::steady_clock::time_point at;  // when the answer was chosen
  bool by_relay = false;                     // X-Event-Transport: redis_streams
};

class DeliveryTarget {
 public:
  DeliveryTarget();
  uint16_t port() const { return upstream_.port(); }
  TestUpstream& upstream() { return upstream_; }

  /// Decides each answer (a delay is waited before answering); the default
  /// is 200 at once.
  void set_policy(std::function<UpstreamReply(const ReceivedRequest&)> policy);
  /// Event id -> how many times it was answered 2xx.
  std::map<std::string, int> delivered() const;
  /// Event id -> each 2xx answer, in order.
  std::map<std::string, std::vector<Delivery>> deliveries() const;
  size_t delivered_count() const;
  int max_concurrent() const { return max_concurrent_.load(); }
  /// Requests that reached the handler (TestUpstream records them only
  /// once answered).
  int arrived() const { return arrived_.load(); }

 private:
  UpstreamReply handle(const ReceivedRequest& r);

  mutable std::mutex mu_;
  std::function<UpstreamReply(const ReceivedRequest&)> policy_;
  std::map<std::string, std::vector<Delivery>> deliveries_;
  std::atomic<int> concurrent_{0};
  std::atomic<int> max_concurrent_{0};
  std::atomic<int> arrived_{0};
  TestUpstream upstream_;  // last: destroyed (its threads joined) first
};

}  // namespace streamshift::testing
