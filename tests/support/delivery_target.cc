// A target recording deliveries by event id; see delivery_target.h.
#include "tests/support/delivery_target.h"

#include <thread>

namespace streamshift::testing {

DeliveryTarget::DeliveryTarget() {
  upstream_.set_handler([this](const ReceivedRequest& r) { return handle(r); });
}

void DeliveryTarget::set_policy(std::function<UpstreamReply(const ReceivedRequest&)> policy) {
  std::lock_guard<std::mutex> lock(mu_);
  policy_ = std::move(policy);
}

std::map<std::string, int> DeliveryTarget::delivered() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, int> counts;
  for (const auto& [id, copies] : deliveries_) counts[id] = static_cast<int>(copies.size());
  return counts;
}

std::map<std::string, std::vector<Delivery>> DeliveryTarget::deliveries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return deliveries_;
}

size_t DeliveryTarget::delivered_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return deliveries_.size();
}

UpstreamReply DeliveryTarget::handle(const ReceivedRequest& r) {
  ++arrived_;
  int now = ++concurrent_;
  int seen = max_concurrent_.load();
  while (now > seen && !max_concurrent_.compare_exchange_weak(seen, now)) {
  }
  std::function<UpstreamReply(const ReceivedRequest&)> policy;
  {
    std::lock_guard<std::mutex> lock(mu_);
    policy = policy_;
  }
  UpstreamReply reply = policy ? policy(r) : UpstreamReply{};
  if (reply.delay.count() > 0) std::this_thread::sleep_for(reply.delay);
  reply.delay = std::chrono::milliseconds(0);
  if (reply.status >= 200 && reply.status < 300) {
    Delivery d{std::chrono::steady_clock::now(),
               r.header("X-Event-Transport").value_or("") == "redis_streams"};
    std::lock_guard<std::mutex> lock(mu_);
    deliveries_[r.header("X-Event-Id").value_or("?")].push_back(d);
  }
  --concurrent_;
  return reply;
}

}  // namespace streamshift::testing
