// A count that every worker of a process shares, taken and given back
// without a lock: the ingress's open client connections, and the request
// body bytes all requests in flight hold together. A worker gives back
// exactly what it took, on the same budget.
#pragma once

#include <atomic>
#include <cstdint>

namespace streamshift {

class SharedBudget {
 public:
  /// `limit` 0: no limit (still counted).
  explicit SharedBudget(uint64_t limit = 0) : limit_(limit) {}
  SharedBudget(const SharedBudget&) = delete;
  SharedBudget& operator=(const SharedBudget&) = delete;

  /// Takes `n` if that stays within the limit.
  bool try_take(uint64_t n) {
    uint64_t used = used_.load(std::memory_order_relaxed);
    do {
      if (limit_ != 0 && (n > limit_ || used > limit_ - n)) return false;
    } while (!used_.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
    return true;
  }
  void give_back(uint64_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }
  uint64_t in_use() const { return used_.load(std::memory_order_relaxed); }
  uint64_t limit() const { return limit_; }

 private:
  const uint64_t limit_;
  std::atomic<uint64_t> used_{0};
};

/// What every worker's ingress shares in one process.
struct IngressBudgets {
  SharedBudget connections;
  SharedBudget body_bytes;
};

}  // namespace streamshift
