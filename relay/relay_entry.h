// One stream entry on its way from Redis to the target: the fields as
// stored (contract v1, docs/event-entry.md), what the relay checked about
// them, and its delivery state. Parsed from XREADGROUP and XAUTOCLAIM
// replies; a malformed entry carries the reason instead of a crash.
#pragma once

#include <hiredis/hiredis.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/event_entry.h"
#include "core/stream_id.h"
#include "relay/relay_metrics.h"

namespace streamshift {

/// Where an entry is in the relay; the transitions are drawn in
/// delivery_lifecycle.h, the only place that changes them.
enum class EntryStage {
  kRead,             // just read or claimed, held
  kChecking,         // asking Redis whether its event_id was already delivered
  kQueued,           // waiting for its room (or a free slot)
  kDelivering,       // a request to the target is in flight
  kBackoff,          // waiting to retry the delivery
  kFinalizing,       // ack (with the delivered mark) or dead-letter + ack in flight
  kFinalizeBackoff,  // waiting to retry the ack after a Redis failure
};

/// What finalizing an entry does in Redis, atomically.
enum class Finalize {
  kAckDelivered,  // mark event_id delivered (dedup), XACK
  kAckOnly,       // XACK: a duplicate, or an entry deleted while pending
  kDeadLetter,    // XADD to the dead-letter stream, XACK
};

struct RelayEntry {
  size_t stream_index = 0;                                  // into RelaySettings::streams
  std::string id;                                           // the entry's stream id
  std::vector<std::pair<std::string, std::string>> fields;  // as stored, in order

  /// The entry was deleted (trimmed) while pending: Redis returned its id
  /// with no fields. Nothing can be delivered.
  bool deleted = false;
  /// Why the entry cannot be delivered; empty when it can.
  std::string malformed;

  /// The contract's values: views into `fields` (valid once parsed; fields
  /// never change after).
  EventEntry event;

  // Delivery state, owned by the relay.
  EntryStage stage = EntryStage::kRead;
  Finalize finalize = Finalize::kAckOnly;
  DeadLetterReason dead_letter_reason = DeadLetterReason::kMalformed;  // with kDeadLetter
  int attempts = 0;         // deliveries tried by this relay
  std::string last_error;   // of the last failed attempt
  uint64_t touched_ms = 0;  // when its idle time in Redis was last reset (read, claim, refresh)
  bool in_room = false;     // queued or delivering under RoomQueues

  /// Key for per-room ordering: entries of one room in one stream.
  std::string room_key() const;
  /// Put back by `streamshift dlq redrive` (a `redriven_from` field): its
  /// ts_ms is still the original ingress, hours old perhaps.
  bool redriven() const;
  /// The entry's id as a StreamId (0-0 when it does not parse).
  StreamId stream_id() const;
};

/// A string or status reply's text; empty for anything else.
std::string_view reply_text(const redisReply* r);

/// Fills `e.fields` from a [field, value, ...] array (or nil: deleted)
/// and decodes them with decode_entry (core/event_entry.h), the check the
/// sidecar runs before storing: `malformed` says why an entry fails it.
void parse_entry_fields(RelayEntry& e, const redisReply* field_array);

/// Parses an array of [id, [field, value, ...]] entries of one stream.
void parse_entries(const redisReply* entries, size_t stream_index,
                   std::vector<std::unique_ptr<RelayEntry>>& out);

/// XREADGROUP's reply: [[stream, entries], ...] (nil when nothing came).
/// Streams are matched to `streams` by name; unknown names are skipped.
void parse_read_reply(const redisReply* reply, const std::vector<std::string>& streams,
                      std::vector<std::unique_ptr<RelayEntry>>& out);

}  // namespace streamshift
