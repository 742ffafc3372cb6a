// The log-linear histogram; see latency_histogram.h.
#include "loadtest/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace streamshift {

// Values below 2^kSubBits land in magnitude 0, one value per bucket. A
// value whose highest set bit is p >= kSubBits lands in magnitude
// m = p - kSubBits + 1, where buckets are 2^(m-1) wide: v >> (m - 1) is in
// [128, 256), minus 128 is the sub-bucket. Index order is value order.
size_t LatencyHistogram::index_of(uint64_t v) {
  if (v < static_cast<uint64_t>(kSubBuckets)) return static_cast<size_t>(v);
  int top = 63 - std::countl_zero(v);  // >= kSubBits
  int magnitude = top - kSubBits + 1;
  if (magnitude > kMagnitudes) return static_cast<size_t>((kMagnitudes + 1) * kSubBuckets - 1);
  uint64_t sub = (v >> (magnitude - 1)) - kSubBuckets;
  return static_cast<size_t>(magnitude) * kSubBuckets + static_cast<size_t>(sub);
}

uint64_t LatencyHistogram::upper_value_of(size_t index) {
  size_t magnitude = index / kSubBuckets;
  uint64_t sub = index % kSubBuckets;
  if (magnitude == 0) return sub;
  uint64_t base = (sub + kSubBuckets) << (magnitude - 1);
  return base + ((uint64_t{1} << (magnitude - 1)) - 1);
}

void LatencyHistogram::record(uint64_t v) {
  ++counts_[index_of(v)];
  ++count_;
  sum_ += v;
  min_ = std::min(min_, v);
  max_ = std::max(max_, v);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::percentile(double p) const {
  if (count_ == 0) return 0;
  if (p >= 100) return max_;
  auto wanted = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  wanted = std::max<uint64_t>(wanted, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= wanted) return std::min(upper_value_of(i), max_);
  }
  return max_;
}

}  // namespace streamshift
