// The streams a replay reads and the range it reads from each, one page at
// a time: XRANGE <stream> <from> <to> COUNT <page>, the next page starting
// after the last id read ("(<id>", Redis 6.2+). Only one page is held at a
// time, whatever the range's size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/redis_commands.h"
#include "relay/relay_entry.h"
#include "relay/relay_settings.h"

namespace streamshift {

/// The physical streams (indexes into settings.streams) that `name`
/// covers: every shard of a logical stream of STREAMSHIFT_STREAMS, or the
/// one shard so named. Empty when it names neither.
std::vector<size_t> replay_streams(const RelaySettings& settings, std::string_view name);

class ReplayRange {
 public:
  /// `entries` are RelayEntry (parsed and checked like the relay's), with
  /// stream_index `stream_index`; on a Redis failure `result` says why and
  /// the same page is read again by the next call.
  using PageDone = std::function<void(const RedisResult& result,
                                      std::vector<std::unique_ptr<RelayEntry>> entries)>;

  ReplayRange(RedisCommands& redis, size_t stream_index, std::string stream, std::string from_id,
              std::string to_id, size_t page_size, uint64_t timeout_ms)
      : redis_(redis),
        stream_index_(stream_index),
        stream_(std::move(stream)),
        start_(std::move(from_id)),
        to_(std::move(to_id)),
        page_size_(std::to_string(page_size)),
        page_(page_size),
        timeout_ms_(timeout_ms) {}

  /// Every entry of the range has been read.
  bool finished() const { return finished_; }
  /// Reads the next page; `done` runs once (maybe inside the call).
  void next(PageDone done);

 private:
  static void on_reply(void* data, const RedisResult& result);

  RedisCommands& redis_;
  size_t stream_index_;
  std::string stream_;
  std::string start_;
  std::string to_;
  std::string page_size_;
  size_t page_;
  uint64_t timeout_ms_;
  bool finished_ = false;
  PageDone done_;
};

}  // namespace streamshift
