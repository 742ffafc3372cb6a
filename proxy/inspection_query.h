// What an inspection request asks (the stream inspection API on the admin
// listener, issue 20), read from its path and query string before any Redis
// look-up: which endpoint, which physical stream, the id range, how many
// entries, the group and consumer. Pure: no Redis, no I/O.
//
//   streams/{stream}/entries  start end count reverse
//   streams/{stream}/pending  start end count group consumer
//   dlq                       start end count          (newest first)
//
// {stream} is percent-decoded. Readable: the physical streams of
// STREAMSHIFT_STREAMS (the shards `L:{s<k>}` when sharded) and the DLQ; a
// sharded logical name is refused with 400 listing its shards, any other
// name is 404. Ids are `-`, `+`, `ms` or `ms-seq`, the last two optionally
// after `(` (exclusive). count: 1..kMaxInspectionCount, default
// kDefaultInspectionCount; above the cap is a 400, never a silent clamp.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/stream_shards.h"

namespace streamshift {

inline constexpr int kDefaultInspectionCount = 20;
inline constexpr int kMaxInspectionCount = 500;

enum class InspectionEndpoint { kEntries, kPending, kDlq };

struct InspectionQuery {
  InspectionEndpoint endpoint = InspectionEndpoint::kEntries;
  std::string stream;  // the physical stream read
  std::string start = "-";
  std::string end = "+";
  int count = kDefaultInspectionCount;
  bool reverse = false;  // newest first (XREVRANGE); the DLQ's always
  std::string group;     // pending: the configured group unless given
  std::string consumer;  // pending: empty for every consumer
};

/// A refusal: HTTP status and the JSON error's code and detail.
struct InspectionRefusal {
  int status = 400;
  std::string code;
  std::string detail;
};

/// The streams the API may read.
class ReadableStreams {
 public:
  ReadableStreams(StreamShards layout, std::string dlq);
  /// nullopt when `name` may be read; else why not (404, or 400 for a
  /// sharded logical name, naming its shards).
  std::optional<InspectionRefusal> check(std::string_view name) const;
  const std::string& dlq() const { return dlq_; }

 private:
  StreamShards layout_;
  std::string dlq_;
};

struct InspectionParse {
  std::optional<InspectionQuery> query;  // set when the request is valid
  InspectionRefusal refusal;             // otherwise
};

/// True for the endpoints above (`endpoint`: the path after /api/v1/events/).
bool is_inspection_endpoint(std::string_view endpoint);

/// Reads an inspection request: `endpoint` as above, `query` the target's
/// part after '?' (empty when none), `group` the configured consumer group.
InspectionParse parse_inspection(std::string_view endpoint, std::string_view query,
                                 const ReadableStreams& streams, std::string_view group);

/// An XRANGE bound: "-", "+", "ms", "ms-seq", the last two maybe after '('.
bool valid_range_id(std::string_view id);

}  // namespace streamshift
