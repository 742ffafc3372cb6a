// A log-linear latency histogram (HdrHistogram's layout, simplified):
// values in nanoseconds, each power of two split into 128 linear
// sub-buckets, so every recorded value is kept within 1/128 (0.8%) of its
// true value from 1 µs to about 10 minutes, in a fixed 40 KB. Recording is
// two shifts and an increment; percentiles walk the buckets once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace streamshift {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 7;  // 128 sub-buckets per power of two
  static constexpr int kSubBuckets = 1 << kSubBits;
  static constexpr int kMagnitudes = 40 - kSubBits;  // up to 2^40 ns (~18 min)

  void record(uint64_t nanoseconds);
  void merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  double mean() const { return count_ == 0 ? 0 : static_cast<double>(sum_) / count_; }
  /// The smallest recorded value v (to bucket precision) such that at least
  /// `percentile` % of all values are <= v; 0 when empty. 100 gives max().
  uint64_t percentile(double percentile) const;

 private:
  static size_t index_of(uint64_t v);
  static uint64_t upper_value_of(size_t index);

  std::array<uint64_t, (kMagnitudes + 1) * kSubBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace streamshift
