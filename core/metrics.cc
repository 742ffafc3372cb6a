// The metrics registry on prometheus-cpp; see metrics.h.
#include "core/metrics.h"

#include <hiredis/hiredis.h>
#include <prometheus/text_serializer.h>
#include <uv.h>

#include <cstdio>
#include <limits>

#include "core/redis_tls.h"

namespace streamshift {
namespace {
thread_local int t_shard = 0;

// The length of the valid UTF-8 sequence at s[i], or 0 (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF).
size_t utf8_sequence(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = at(i);
  if (c < 0x80) return 1;
  size_t n = c >= 0xC2 && c <= 0xDF   ? 2
             : c >= 0xE0 && c <= 0xEF ? 3
             : c >= 0xF0 && c <= 0xF4 ? 4
                                      : 0;
  if (n == 0 || i + n > s.size()) return 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
  if (c == 0xE0) lo = 0xA0;
  if (c == 0xED) hi = 0x9F;
  if (c == 0xF0) lo = 0x90;
  if (c == 0xF4) hi = 0x8F;
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (at(i + k) < 0x80 || at(i + k) > 0xBF) return 0;
  }
  return n;
}

prometheus::ClientMetric with_labels(const Labels& labels) {
  prometheus::ClientMetric m;
  for (const auto& [name, value] : labels) m.label.push_back({name, value});
  return m;
}

}  // namespace

void set_metrics_shard(int shard) {
  t_shard = shard % kMetricShards;
}
int metrics_shard() {
  return t_shard;
}

std::string sanitize_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size();) {
    size_t n = utf8_sequence(value, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(value.substr(i, n));
      i += n;
    }
  }
  return out;
}

void metrics_detail::add(Cell& cell, double v) {
  cell.value.store(cell.value.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
}

double Counter::Value() const {
  double total = 0;
  for (const auto& c : cells_) total += c.value.load(std::memory_order_relaxed);
  return total;
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

prometheus::ClientMetric::Histogram Histogram::Collect() const {
  prometheus::ClientMetric::Histogram h;
  std::vector<uint64_t> counts(bounds_.size() + 1, 0);
  for (int i = 0; i < kMetricShards; ++i) {
    for (size_t b = 0; b <= bounds_.size(); ++b) {
      counts[b] += shards_[i].counts[b].load(std::memory_order_relaxed);
    }
    h.sample_sum += shards_[i].sum.load(std::memory_order_relaxed);
  }
  uint64_t cumulative = 0;
  for (size_t b = 0; b <= bounds_.size(); ++b) {
    cumulative += counts[b];
    double bound = b < bounds_.size() ? bounds_[b] : std::numeric_limits<double>::infinity();
    h.bucket.push_back({cumulative, bound});
  }
  h.sample_count = cumulative;
  return h;
}

const Histogram::BucketBoundaries& latency_buckets() {
  static const Histogram::BucketBoundaries kBuckets = {
      0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,   0.05,     0.1,     0.25,   0.5,     1,      2.5,   5,      10};
  return kBuckets;
}

template <typename T>
T& ShardedFamily<T>::Add(const Labels& labels) {
  Labels clean;
  for (const auto& [name, value] : labels) clean.emplace(name, sanitize_label_value(value));
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [l, child] : children_) {
    if (l == clean) return *child;
  }
  if constexpr (std::is_same_v<T, Histogram>) {
    children_.emplace_back(std::move(clean), std::make_unique<Histogram>(buckets_));
  } else {
    children_.emplace_back(std::move(clean), std::make_unique<T>());
  }
  return *children_.back().second;
}

template <typename T>
prometheus::MetricFamily ShardedFamily<T>::Collect() const {
  prometheus::MetricFamily family;
  family.name = name_;
  family.help = help_;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [labels, child] : children_) {
    prometheus::ClientMetric m = with_labels(labels);
    if constexpr (std::is_same_v<T, Histogram>) {
      m.histogram = child->Collect();
    } else {
      m.counter.value = child->Value();
    }
    family.metric.push_back(std::move(m));
  }
  family.type = std::is_same_v<T, Histogram> ? prometheus::MetricType::Histogram
                                             : prometheus::MetricType::Counter;
  return family;
}

template class ShardedFamily<Counter>;
template class ShardedFamily<Histogram>;

Registry::Registry() : gauges_(std::make_shared<prometheus::Registry>()) {}

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help) {
  std::lock_guard<std::mutex> lock(mu_);
  counters_.push_back(std::make_unique<ShardedFamily<Counter>>(name, help));
  return *counters_.back();
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                          Histogram::BucketBoundaries buckets) {
  std::lock_guard<std::mutex> lock(mu_);
  histograms_.push_back(std::make_unique<ShardedFamily<Histogram>>(name, help, std::move(buckets)));
  return *histograms_.back();
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(*gauges_);
}

void Registry::Attach(std::shared_ptr<const prometheus::Collectable> source) {
  std::lock_guard<std::mutex> lock(mu_);
  attached_.push_back(std::move(source));
}

std::vector<prometheus::MetricFamily> Registry::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : counters_) out.push_back(f->Collect());
  for (const auto& f : histograms_) out.push_back(f->Collect());
  for (auto& f : gauges_->Collect()) out.push_back(std::move(f));
  for (const auto& source : attached_) {
    for (auto& f : source->Collect()) out.push_back(std::move(f));
  }
  return out;
}

std::string Registry::Serialize() const {
  return prometheus::TextSerializer().Serialize(Collect());
}

void set_gauge_or_remove(Family<Gauge>& family, const Labels& labels, std::optional<double> value) {
  Labels clean;
  for (const auto& [name, v] : labels) clean.emplace(name, sanitize_label_value(v));
  if (value)
    family.Add(clean).Set(*value);
  else if (family.Has(clean))
    family.Remove(&family.Add(clean));
}

void add_build_info(Registry& registry, std::string_view program) {
  char hiredis[32];
  std::snprintf(hiredis, sizeof hiredis, "%d.%d.%d", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
  registry
      .AddGauge("streamshift_build_info",
                "The running build: version, program and library versions (value 1)")
      .Add({{"version", STREAMSHIFT_VERSION},
            {"program", std::string(program)},
            {"libuv", uv_version_string()},
            {"hiredis", hiredis}})
      .Set(1);
}

void add_redis_tls_verify(Registry& registry, const RedisTlsContext* tls) {
  if (tls == nullptr) return;
  registry
      .AddGauge("streamshift_redis_tls_verify",
                "1: the Redis server's TLS certificate and name are verified; 0: "
                "REDIS_TLS_INSECURE_SKIP_VERIFY (no series without TLS)")
      .Add({})
      .Set(tls->verify() ? 1 : 0);
}

}  // namespace streamshift
