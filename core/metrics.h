// A Prometheus metrics registry (prometheus-cpp is not packaged for Debian
// bookworm). Shaped after prometheus-cpp, so it can be swapped for it:
// a Registry holds Families; a Family<T> hands out one metric per label set.
//
// Hot path: every metric keeps one cache-line-sized cell per shard, and a
// thread writes only its own shard (set once per thread with
// set_metrics_shard), so Increment/Observe are a relaxed load and store,
// with no contention and no lock; a scrape sums the shards. Label look-up
// (Family::Add) takes a mutex: resolve metrics once, keep the reference.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace streamshift {

/// Shards per metric: the admin thread (0) and up to 63 workers.
inline constexpr int kMetricShards = 64;

/// Which shard this thread writes (0 by default).
void set_metrics_shard(int shard);
int metrics_shard();

using Labels = std::map<std::string, std::string>;

namespace metrics_detail {
struct alignas(64) Cell {
  std::atomic<double> value{0};
};
void add(Cell& cell, double v);  // single writer per shard: load + store
}  // namespace metrics_detail

class Counter {
 public:
  void Increment(double v = 1.0) { metrics_detail::add(cells_[metrics_shard()], v); }
  double Value() const;

 private:
  metrics_detail::Cell cells_[kMetricShards];
};

/// A gauge is one value (not sharded): Set from one place, or Increment and
/// Decrement from several.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Increment(double v = 1.0);
  void Decrement(double v = 1.0) { Increment(-v); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  using BucketBoundaries = std::vector<double>;
  explicit Histogram(const BucketBoundaries& buckets);
  void Observe(double v);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bucket, then +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Collect() const;

 private:
  struct alignas(64) Shard {
    std::unique_ptr<std::atomic<uint64_t>[]> counts;
    std::atomic<double> sum{0};
  };
  BucketBoundaries bounds_;
  std::unique_ptr<Shard[]> shards_;
};

/// Buckets from 10 microseconds to 10 seconds (1-2.5-5 steps): the sidecar's
/// own latencies and a slow upstream both resolve.
const Histogram::BucketBoundaries& latency_buckets();

enum class MetricType { kCounter, kGauge, kHistogram };

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type)
      : name_(std::move(name)), help_(std::move(help)), type_(type) {}
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  /// Appends this family in the text exposition format 0.0.4.
  virtual void serialize(std::string& out) const = 0;

 protected:
  void header(std::string& out) const;
  std::string name_, help_;
  MetricType type_;
};

template <typename T>
class Family : public FamilyBase {
 public:
  Family(std::string name, std::string help, MetricType type,
         Histogram::BucketBoundaries buckets = {})
      : FamilyBase(std::move(name), std::move(help), type), buckets_(std::move(buckets)) {}
  /// The metric for `labels`, created on first use; the reference stays valid.
  T& Add(const Labels& labels);
  void serialize(std::string& out) const override;

 private:
  mutable std::mutex mu_;
  Histogram::BucketBoundaries buckets_;
  std::deque<std::pair<Labels, std::unique_ptr<T>>> metrics_;
};

class Registry {
 public:
  Family<Counter>& AddCounter(const std::string& name, const std::string& help);
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help);
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                  Histogram::BucketBoundaries buckets = latency_buckets());
  /// The whole registry in the text exposition format 0.0.4.
  std::string Serialize() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
};

/// Escapes a label value: backslash, double quote and newline.
void append_label_value(std::string& out, std::string_view value);
/// Formats a sample value (integers without a fraction, +Inf, NaN).
void append_sample_value(std::string& out, double value);

}  // namespace streamshift
