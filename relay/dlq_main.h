// `streamshift dlq`: the dead-letter stream for the people on call,
// configured from the environment like the relay (load_relay_settings:
// REDIS_URL, STREAMSHIFT_DLQ_STREAM, STREAMSHIFT_STREAMS, shards, ...).
//
//   dlq list [--count N]         one line per dead letter, oldest first
//   dlq show <id>                every field of one; exit 1 when absent
//   dlq redrive (--id <id> ... | --all) [--reason R]
//                                back into its source stream (dlq_redrive.h);
//                                "redriven N, skipped N, failed N"; exit 1
//                                when any failed
// Usage and configuration errors exit 2; Redis unreachable exits 1.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "relay/relay_metrics.h"

namespace streamshift {

struct DlqArgs {
  enum class Verb { kList, kShow, kRedrive };
  Verb verb = Verb::kList;
  int64_t count = 100;                     // list
  std::vector<std::string> ids;            // show: one; redrive --id
  bool all = false;                        // redrive --all
  std::optional<DeadLetterReason> reason;  // redrive --reason
};

/// The arguments after `dlq`, or the usage error's message.
std::variant<DlqArgs, std::string> parse_dlq_args(const std::vector<std::string_view>& args);

/// The usage text of `streamshift dlq`.
extern const char* const kDlqUsage;

/// Runs `streamshift dlq <args>`; the exit status.
int run_dlq(const std::vector<std::string_view>& args);

}  // namespace streamshift
