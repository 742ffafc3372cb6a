// Dead letters as `streamshift dlq` reads them, and their redrive: back
// into the source stream with the original fields, out of the DLQ, in one
// script so nothing is lost or doubled.
//
//   redrive_one(id):
//     XRANGE <dlq> id id          absent: kSkipped (gone, or redriven already)
//     --reason R and dlq_reason != R: kSkipped
//     check_redrive_source        dlq_source_stream not a configured physical
//                                 stream, or (Redis Cluster) not in the DLQ's
//                                 slot: kFailed, nothing written
//     (dlq_source_stream, dlq_source_id) already redriven in this run:
//                                 kSkipped "duplicate of <id>", left in the DLQ
//                                 (a relay that crashed between the dead
//                                 letter's XADD and its XACK wrote two)
//     EVAL kRedriveScript 2 <dlq> <source> id
//                                 in Redis, atomically: XRANGE again (nil when
//                                 gone: kSkipped), XADD <source> * <fields
//                                 without dlq_* and redriven_from>
//                                 redriven_from <id>, XDEL <dlq> id
//
// Redis Cluster: one script cannot touch two slots, and a second step would
// leave a window where a crash doubles (XADD done, XDEL not) or loses (XDEL
// first) the event. So redrive there needs the DLQ to share each source
// stream's slot (a hash tag: STREAMSHIFT_DLQ_STREAM=events:{chat}:dlq for
// events:{chat}); otherwise it is refused with that advice.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "relay/dlq_session.h"
#include "relay/relay_metrics.h"
#include "relay/relay_settings.h"

namespace streamshift {

struct DeadLetter {
  std::string id;
  std::vector<std::pair<std::string, std::string>> fields;  // in stream order

  /// The first field `name`'s value, or "".
  const std::string& field(std::string_view name) const;
};

/// The entries of an XRANGE / XREVRANGE reply.
std::vector<DeadLetter> parse_dead_letters(const OwnedReply& reply);

/// The script: KEYS[1] the DLQ, KEYS[2] the source stream, ARGV[1] the dead
/// letter's id. Returns the new entry's id, or nil when the dead letter is
/// gone. Refuses (error reply, nothing written) when the dead letter's
/// dlq_source_stream is not KEYS[2].
extern const char* const kRedriveScript;

/// Why `source` cannot take a redrive from the DLQ of `settings`, or
/// nullopt when it can: it must be one of the physical streams the relays
/// consume, and on Redis Cluster in the DLQ's slot.
std::optional<std::string> check_redrive_source(const RelaySettings& settings,
                                                const std::string& source);

enum class RedriveOutcome { kRedriven, kSkipped, kFailed };

struct RedriveResult {
  RedriveOutcome outcome = RedriveOutcome::kFailed;
  std::string detail;  // the new id, or why skipped or failed
};

/// The source entries (dlq_source_stream, dlq_source_id) redriven so far in
/// one run, with the dead letter each came from.
using RedrivenSources = std::map<std::pair<std::string, std::string>, std::string>;

/// Redrives dead letter `id` (see above). `reason`: only one with this
/// dlq_reason. `redriven`: this run's redrives so far; a redrive is added.
RedriveResult redrive_one(DlqSession& redis, const RelaySettings& settings, const std::string& id,
                          std::optional<DeadLetterReason> reason, RedrivenSources& redriven);

}  // namespace streamshift
