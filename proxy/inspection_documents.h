// The inspection API's answers (see inspection_query.h for the requests),
// built from Redis's replies by pure functions: XRANGE / XREVRANGE entries,
// the XPENDING summary and extended form, and dead letters.
//
// An entry: {"id":..,"fields":{..every field but body..}, and when it has a
// body: "body":<the body as JSON when it parses, else as a string>,
// "body_format":"json"|"text","body_bytes":<size>,"body_truncated":<bool>}.
// A body longer than kInspectionBodyBytes is shown as its first bytes, as a
// string (Redis may have sent only those, with the whole size: RangeEntry).
// A dead letter has the dlq_* fields as its own members (error,
// source_stream, source_id, deliveries, consumer, ts_ms) and the original
// entry's other fields under "fields".
//
// Each list is read with count + 1 entries: the last one, when it came,
// is not shown but named as "next", the id to continue from (start=<next>,
// or end=<next> newest first); "next" is null when nothing follows. A page
// that the range script stopped early ends with an id alone (RangeEntry::
// id_only): it is the "next" of a shorter page.
#pragma once

#include <hiredis/hiredis.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/inspection_query.h"

namespace streamshift {

inline constexpr size_t kInspectionBodyBytes = 4096;

/// One entry of an XRANGE reply, viewing the reply.
struct RangeEntry {
  std::string_view id;
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  /// The body's whole size when Redis sent it cut (stream_inspection.h's
  /// script); else the body's own size counts.
  std::optional<size_t> body_bytes;
  /// The script's page stopped before this entry: only its id came.
  bool id_only = false;
};

/// XRANGE's reply, or the range script's (each entry then has a third
/// element, its body's whole size, and the last may be [id] alone);
/// nullopt when it is not an array of [id, [field, value...]] or
/// [id, [field, value...], size], then at most one [id] at the end.
std::optional<std::vector<RangeEntry>> read_range_reply(const redisReply* reply);

/// Owned: kept while the entries are asked for.
struct PendingSummary {
  int64_t count = 0;
  std::string smallest_id;  // empty when nothing is pending
  std::string largest_id;
  std::vector<std::pair<std::string, int64_t>> consumers;
};

struct PendingEntry {
  std::string_view id;
  std::string_view consumer;
  int64_t idle_ms = 0;
  int64_t deliveries = 0;
};

/// XPENDING <key> <group>'s reply.
std::optional<PendingSummary> read_pending_summary(const redisReply* reply);
/// XPENDING <key> <group> <start> <end> <count> [consumer]'s reply.
std::optional<std::vector<PendingEntry>> read_pending_entries(const redisReply* reply);

/// {"stream":..,"reverse":..,"entries":[..],"next":..}, at most q.count entries.
std::string entries_document(const InspectionQuery& q, const std::vector<RangeEntry>& entries);
/// {"stream":..,"dead_letters":[..],"next":..}
std::string dlq_document(const InspectionQuery& q, const std::vector<RangeEntry>& entries);
/// {"stream":..,"group":..,"consumer":..|null,"summary":{"count":..,"smallest_id":..,
///  "largest_id":..,"consumers":{name:count}},"entries":[{"id","consumer","idle_ms",
///  "deliveries"}],"next":..}; the summary is the group's, whatever the consumer.
std::string pending_document(const InspectionQuery& q, const PendingSummary& summary,
                             const std::vector<PendingEntry>& entries);

}  // namespace streamshift
