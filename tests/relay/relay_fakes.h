// Fakes for the relay's three ways out: Redis (RelayRedis), time
// (RelayClock) and the target (DeliveryTarget). Commands and requests wait
// until the test answers them; time moves only when the test says, so the
// parts' policy is driven without a network or a loop.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/http_client.h"
#include "core/metrics.h"
#include "relay/delivery_target.h"
#include "relay/held_entries.h"
#include "relay/relay_clock.h"
#include "relay/relay_entry.h"
#include "relay/relay_metrics.h"
#include "relay/relay_redis.h"
#include "relay/relay_settings.h"
#include "tests/core/resp.h"

namespace streamshift::fakes {

class FakeRedis final : public RelayRedis {
 public:
  struct Call {
    RedisArgs args;
    RedisDone done;
    bool on_reader = false;
    uint64_t timeout_ms = 0;  // reads only
    size_t group = 0;         // reads only
  };

  void start(Hooks hooks) override;
  void command(const RedisArgs& args, RedisDone done) override;
  void read(size_t group, const RedisArgs& args, RedisDone done, uint64_t timeout_ms) override;
  bool reader_ready(size_t) const override { return reader_up; }
  bool readers_ready() const override { return reader_up; }
  bool commands_ready() const override { return commands_up; }
  void close_readers(std::function<void()> on_closed) override;
  void close_commands(std::function<void()> on_closed) override;

  /// Commands sent and not answered yet, oldest first.
  const std::deque<Call>& pending() const { return pending_; }
  /// Every command sent so far, as "VERB arg arg ...".
  const std::vector<std::string>& sent() const { return sent_; }
  /// The oldest unanswered command whose first words are `prefix`
  /// ("XREADGROUP", "XINFO GROUPS"); fails the test when there is none.
  const Call& find(const std::string& prefix) const;
  bool has(const std::string& prefix) const;
  size_t count(const std::string& prefix) const;
  /// Answers the oldest unanswered command starting with `prefix` with a
  /// reply in RESP (an error reply, "-ERR ..", answers kErrorReply).
  void answer(const std::string& prefix, const std::string& resp_reply);
  /// Answers it with a failure (timeout, connection lost, ...).
  void fail(const std::string& prefix, RedisStatus status);

  bool reader_up = true;
  bool commands_up = true;
  bool started = false;
  bool reader_closed = false;
  bool commands_closed = false;
  Hooks hooks;

 private:
  size_t index_of(const std::string& prefix) const;
  void complete(size_t index, const RedisResult& result);

  std::deque<Call> pending_;
  std::vector<std::string> sent_;
};

class FakeClock final : public RelayClock {
 public:
  FakeClock();
  ~FakeClock() override;
  uint64_t now_ms() const override { return now_; }
  RelayTimer& timer(std::function<void()> fire) override;
  TurnEndTask& turn_end_task(std::function<void()> fire) override;
  void close(std::function<void()> on_closed) override;

  /// Moves time on by `ms`, firing every timer due on the way, in order.
  void advance(uint64_t ms);
  /// Ends the loop turn: runs the armed turn-end tasks.
  void end_turn();
  /// The earliest due time of an active timer, or 0 when none is active.
  uint64_t next_due() const;
  bool closed() const { return closed_; }

 private:
  struct Timer;
  struct Task;
  uint64_t now_ = 1000;
  bool closed_ = false;
  std::vector<std::unique_ptr<Timer>> timers_;
  std::vector<std::unique_ptr<Task>> tasks_;
};

class FakeTarget final : public DeliveryTarget {
 public:
  void send(std::unique_ptr<UpstreamRequest> request) override;
  void shutdown(std::function<void()> on_closed) override;

  const std::deque<std::unique_ptr<UpstreamRequest>>& requests() const { return requests_; }
  /// Answers the oldest request in flight whose head contains `needle`
  /// ("" for the oldest) with `status`, or fails it with `error`.
  void answer(const std::string& needle, int status, UpstreamError error = UpstreamError::kNone);
  size_t sent_count() const { return sent_; }
  bool shut_down = false;

 private:
  std::deque<std::unique_ptr<UpstreamRequest>> requests_;
  size_t sent_ = 0;
};

/// Settings for unit tests: streams events:a and events:b, group g,
/// consumer me, READ_COUNT 10, CONCURRENCY 4, MAX_DELIVERIES 3,
/// CLAIM_IDLE_MS 3000, retries from 100 ms to 1 s, dedup TTL 300 s.
RelaySettings test_settings();

/// What each part's test starts from: the settings, metrics, fake Redis
/// and clock, and the held entries.
class PartsTest : public ::testing::Test {
 protected:
  /// Answers the pending XGROUP CREATE of every stream with OK.
  void answer_group_creation();

  RelaySettings settings_ = test_settings();
  Registry registry_;
  RelayMetrics metrics_{registry_, nullptr};
  FakeRedis redis_;
  FakeClock clock_;
  HeldEntries held_{settings_.max_held(), static_cast<size_t>(settings_.read_count)};
};

/// An XREADGROUP / XAUTOCLAIM entry, [id, [field, value, ...]], valid by
/// contract v1 (`event_id` defaults to "ev-<id>"), then `extra` fields.
std::string entry_resp(const std::string& id, const std::string& room,
                       const std::string& event_id = "",
                       const std::vector<std::string>& extra = {});
/// XREADGROUP's reply for one stream.
std::string read_resp(const std::string& stream, const std::vector<std::string>& entries);
/// Parsed entries, as the reader hands them over.
std::vector<std::unique_ptr<RelayEntry>> entries(size_t stream_index,
                                                 const std::vector<std::string>& entry_resps);

}  // namespace streamshift::fakes
