// The entries this relay holds, from read (or claim) to ack or release,
// by key "<stream index>/<id>"; and the entries reads, scans and claims in
// flight have asked for. Together they stay within RelaySettings::max_held(),
// so nothing waits long enough in the relay's own memory to look abandoned
// to the other relays.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>

#include "relay/relay_entry.h"

namespace streamshift {

class HeldEntries {
 public:
  HeldEntries(size_t max_held, size_t read_count) : max_held_(max_held), read_count_(read_count) {}

  static std::string key_of(const RelayEntry& e);

  RelayEntry* find(const std::string& key) const;
  bool holds(const RelayEntry& e) const { return entries_.count(key_of(e)) != 0; }
  /// Takes `e` in; it must not be held already.
  RelayEntry* add(std::unique_ptr<RelayEntry> e);
  /// Frees `e`.
  void remove(const RelayEntry& e);
  void clear() { entries_.clear(); }
  size_t size() const { return entries_.size(); }
  /// Calls f(RelayEntry*) for each; f must not add or remove.
  template <typename Fn>
  void for_each(Fn f) const {
    for (const auto& [key, e] : entries_) f(e.get());
  }

  /// How many entries one read, scan or claim may ask for now: the read
  /// count at most, and no more than what is left of the budget.
  size_t read_budget() const;
  /// A read, scan or claim of `count` entries is in flight, or answered.
  void reserve(size_t count) { reserved_ += count; }
  void unreserve(size_t count) { reserved_ -= count; }

 private:
  size_t max_held_;
  size_t read_count_;
  size_t reserved_ = 0;
  std::unordered_map<std::string, std::unique_ptr<RelayEntry>> entries_;
};

}  // namespace streamshift
