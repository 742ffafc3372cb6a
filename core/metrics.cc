// The metrics registry and its text exposition; see metrics.h.
#include "core/metrics.h"

#include <cmath>
#include <cstdio>

namespace streamshift {
namespace {
thread_local int t_shard = 0;

void append_labels(std::string& out, const Labels& labels, std::string_view extra_key = {},
                   std::string_view extra_value = {}) {
  if (labels.empty() && extra_key.empty()) return;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    append_label_value(out, v);
    out += '"';
  }
  if (!extra_key.empty()) {
    if (!first) out += ',';
    out += extra_key;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

}  // namespace

void set_metrics_shard(int shard) {
  t_shard = shard % kMetricShards;
}
int metrics_shard() {
  return t_shard;
}

void metrics_detail::add(Cell& cell, double v) {
  cell.value.store(cell.value.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
}

double Counter::Value() const {
  double total = 0;
  for (const auto& c : cells_) total += c.value.load(std::memory_order_relaxed);
  return total;
}

void Gauge::Increment(double v) {
  double old = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(const BucketBoundaries& buckets) : bounds_(buckets) {
  shards_ = std::make_unique<Shard[]>(kMetricShards);
  for (int i = 0; i < kMetricShards; ++i) {
    shards_[i].counts = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
    for (size_t b = 0; b <= bounds_.size(); ++b) shards_[i].counts[b].store(0);
  }
}

void Histogram::Observe(double v) {
  size_t b = 0;
  while (b < bounds_.size() && v > bounds_[b]) ++b;
  Shard& s = shards_[t_shard];
  s.counts[b].store(s.counts[b].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  s.sum.store(s.sum.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Collect() const {
  Snapshot snap;
  snap.cumulative.assign(bounds_.size() + 1, 0);
  for (int i = 0; i < kMetricShards; ++i) {
    for (size_t b = 0; b <= bounds_.size(); ++b) {
      snap.cumulative[b] += shards_[i].counts[b].load(std::memory_order_relaxed);
    }
    snap.sum += shards_[i].sum.load(std::memory_order_relaxed);
  }
  for (size_t b = 1; b < snap.cumulative.size(); ++b) snap.cumulative[b] += snap.cumulative[b - 1];
  snap.count = snap.cumulative.back();
  return snap;
}

const Histogram::BucketBoundaries& latency_buckets() {
  static const Histogram::BucketBoundaries kBuckets = {
      0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,   0.05,     0.1,     0.25,   0.5,     1,      2.5,   5,      10};
  return kBuckets;
}

void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

void append_sample_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else if (value == std::floor(value) && std::fabs(value) < 1e15) {
    out += std::to_string(static_cast<long long>(value));
  } else {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", value);
    out += buf;
  }
}

void FamilyBase::header(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  for (char c : help_) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  out += "\n# TYPE ";
  out += name_;
  out += type_ == MetricType::kCounter ? " counter\n"
         : type_ == MetricType::kGauge ? " gauge\n"
                                       : " histogram\n";
}

template <typename T>
T& Family<T>::Add(const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [l, m] : metrics_) {
    if (l == labels) return *m;
  }
  if constexpr (std::is_same_v<T, Histogram>) {
    metrics_.emplace_back(labels, std::make_unique<Histogram>(buckets_));
  } else {
    metrics_.emplace_back(labels, std::make_unique<T>());
  }
  return *metrics_.back().second;
}

namespace {
// Counters and gauges: one sample per label set.
template <typename T>
void serialize_scalars(std::string& out, const std::string& name,
                       const std::deque<std::pair<Labels, std::unique_ptr<T>>>& metrics) {
  for (const auto& [labels, m] : metrics) {
    out += name;
    append_labels(out, labels);
    out += ' ';
    append_sample_value(out, m->Value());
    out += '\n';
  }
}
}  // namespace

template <>
void Family<Counter>::serialize(std::string& out) const {
  header(out);
  std::lock_guard<std::mutex> lock(mu_);
  serialize_scalars(out, name_, metrics_);
}

template <>
void Family<Gauge>::serialize(std::string& out) const {
  header(out);
  std::lock_guard<std::mutex> lock(mu_);
  serialize_scalars(out, name_, metrics_);
}

template <>
void Family<Histogram>::serialize(std::string& out) const {
  header(out);
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [labels, m] : metrics_) {
    Histogram::Snapshot snap = m->Collect();
    for (size_t b = 0; b < snap.cumulative.size(); ++b) {
      std::string le;
      if (b < buckets_.size())
        append_sample_value(le, buckets_[b]);
      else
        le = "+Inf";
      out += name_;
      out += "_bucket";
      append_labels(out, labels, "le", le);
      out += ' ';
      out += std::to_string(snap.cumulative[b]);
      out += '\n';
    }
    out += name_;
    out += "_sum";
    append_labels(out, labels);
    out += ' ';
    append_sample_value(out, snap.sum);
    out += '\n';
    out += name_;
    out += "_count";
    append_labels(out, labels);
    out += ' ';
    out += std::to_string(snap.count);
    out += '\n';
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help) {
  std::lock_guard<std::mutex> lock(mu_);
  families_.push_back(std::make_unique<Family<Counter>>(name, help, MetricType::kCounter));
  return static_cast<Family<Counter>&>(*families_.back());
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help) {
  std::lock_guard<std::mutex> lock(mu_);
  families_.push_back(std::make_unique<Family<Gauge>>(name, help, MetricType::kGauge));
  return static_cast<Family<Gauge>&>(*families_.back());
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                          Histogram::BucketBoundaries buckets) {
  std::lock_guard<std::mutex> lock(mu_);
  families_.push_back(
      std::make_unique<Family<Histogram>>(name, help, MetricType::kHistogram, std::move(buckets)));
  return static_cast<Family<Histogram>&>(*families_.back());
}

std::string Registry::Serialize() const {
  std::string out;
  out.reserve(16384);
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : families_) f->serialize(out);
  return out;
}

}  // namespace streamshift
