// Typing-indicator coalescing: per (room_id, user_id), the latest state
// wins and no final state is lost.
//
//   event at t, key unknown or last send older than refresh_ms --> send now (leading edge),
//                                                                   window [t, t+window)
//   inside the window                       --> hold it; a later one replaces it (counted)
//   after the window, same state as sent    --> drop (counted): nothing new to say
//   after the window, another state         --> send now, new window
//   window closes with a held event         --> send it if its state differs from the
//                                               last sent (trailing edge), new window;
//                                               else drop it (counted)
//   an event after the window, its timer    --> the held event is superseded (dropped,
//   not run yet (busy loop)                     counted); the new one is decided as above
//
// A new event always supersedes a held one: no held state ever goes out
// after a newer event of its key.
//
// The state is the event_type (typing_start, typing_stop). The last state is
// re-sent at least every refresh_ms while events keep coming, so clients that
// expire indicators keep showing them. Keys with nothing held are forgotten
// refresh_ms after their last send. Beyond max_keys, events pass through
// uncoalesced (never dropped) and the overflow is counted.
//
// Pure logic over an injected clock (milliseconds): the event router drives
// it from a libuv timer, tests drive it by hand.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>

namespace streamshift {

struct CoalescerOptions {
  uint64_t window_ms = 100;
  uint64_t refresh_ms = 1000;
  size_t max_keys = 100000;
};

template <typename Payload>
class Coalescer {
 public:
  enum class Decision { kSendNow, kHeld, kDropped, kPassThrough };

  /// `on_dropped(event_type)` is told about every event that will never be sent.
  Coalescer(CoalescerOptions options, std::function<void(const std::string&)> on_dropped)
      : options_(options), on_dropped_(std::move(on_dropped)) {}

  /// Offers an event. kSendNow and kPassThrough: the caller sends it itself,
  /// now; kHeld: the coalescer keeps `make_payload()` (called only then);
  /// kDropped: nothing to send.
  template <typename MakePayload>
  Decision offer(const std::string& key, const std::string& event_type, uint64_t now,
                 MakePayload&& make_payload) {
    auto it = keys_.find(key);
    if (it == keys_.end()) {
      if (keys_.size() >= options_.max_keys) {
        ++overflow_;
        return Decision::kPassThrough;
      }
      it = keys_.emplace(key, Entry{}).first;
      return send_now(it, event_type, now);
    }
    Entry& e = it->second;
    if (e.held && now >= e.window_until) {
      // The window has ended but its timer has not run yet (a busy loop):
      // this event is newer than the held one, which must never go out
      // after it.
      e.held = false;
      e.held_payload = Payload{};
      on_dropped_(e.held_type);
    }
    if (now >= e.last_sent_at + options_.refresh_ms && !e.held)
      return send_now(it, event_type, now);
    if (now < e.window_until) {
      if (e.held) on_dropped_(e.held_type);
      e.held = true;
      e.held_type = event_type;
      e.held_payload = make_payload();
      return Decision::kHeld;
    }
    if (event_type == e.last_sent_type) {
      on_dropped_(event_type);
      return Decision::kDropped;
    }
    return send_now(it, event_type, now);
  }

  /// Closes the windows due by `now`; `send` gets each trailing event.
  void advance(uint64_t now, const std::function<void(Payload&&)>& send) {
    while (!windows_.empty() && windows_.front().first <= now) {
      auto [due, key] = std::move(windows_.front());
      windows_.pop_front();
      auto it = keys_.find(key);
      if (it == keys_.end() || it->second.window_until != due) continue;  // superseded
      Entry& e = it->second;
      if (e.held) {
        e.held = false;
        if (e.held_type != e.last_sent_type) {
          Payload p = std::move(e.held_payload);
          e.last_sent_type = e.held_type;
          e.last_sent_at = due;
          open_window(it->first, e, due);
          send(std::move(p));
          continue;
        }
        on_dropped_(e.held_type);
      }
      // Forget the key once nothing is held and a refresh would be due anyway.
      if (due >= e.last_sent_at + options_.refresh_ms)
        keys_.erase(it);
      else
        expiries_.emplace_back(e.last_sent_at + options_.refresh_ms, key);
    }
    while (!expiries_.empty() && expiries_.front().first <= now) {
      auto [due, key] = std::move(expiries_.front());
      expiries_.pop_front();
      auto it = keys_.find(key);
      if (it != keys_.end() && !it->second.held &&
          now >= it->second.last_sent_at + options_.refresh_ms && now >= it->second.window_until) {
        keys_.erase(it);
      }
    }
  }

  /// Sends every held event whose state differs from the last sent (shutdown).
  void flush(const std::function<void(Payload&&)>& send) {
    for (auto& [key, e] : keys_) {
      if (!e.held) continue;
      e.held = false;
      if (e.held_type != e.last_sent_type)
        send(std::move(e.held_payload));
      else
        on_dropped_(e.held_type);
    }
    keys_.clear();
    windows_.clear();
    expiries_.clear();
  }

  /// The next time advance() has work, or 0 when none.
  uint64_t next_deadline() const {
    uint64_t next = 0;
    if (!windows_.empty()) next = windows_.front().first;
    if (!expiries_.empty() && (next == 0 || expiries_.front().first < next))
      next = expiries_.front().first;
    return next;
  }

  size_t keys() const { return keys_.size(); }
  uint64_t overflow() const { return overflow_; }

 private:
  struct Entry {
    std::string last_sent_type;
    uint64_t last_sent_at = 0;
    uint64_t window_until = 0;
    bool held = false;
    std::string held_type;
    Payload held_payload{};
  };
  using Iterator = typename std::unordered_map<std::string, Entry>::iterator;

  Decision send_now(Iterator it, const std::string& event_type, uint64_t now) {
    Entry& e = it->second;
    e.last_sent_type = event_type;
    e.last_sent_at = now;
    open_window(it->first, e, now);
    return Decision::kSendNow;
  }

  void open_window(const std::string& key, Entry& e, uint64_t now) {
    e.window_until = now + options_.window_ms;
    windows_.emplace_back(e.window_until, key);  // constant length: deadlines stay ordered
  }

  CoalescerOptions options_;
  std::function<void(const std::string&)> on_dropped_;
  std::unordered_map<std::string, Entry> keys_;
  std::deque<std::pair<uint64_t, std::string>> windows_;
  std::deque<std::pair<uint64_t, std::string>> expiries_;
  uint64_t overflow_ = 0;
};

}  // namespace streamshift
