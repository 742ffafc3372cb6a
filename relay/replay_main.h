// `streamshift replay`: delivers a range of a stream's entries again to the
// relay's target, with the relay's request and outcome rules, from the
// relay's environment; never touching the consumer group. See
// relay/replay_args.h for the command line and README.md ("Replaying a range").
#pragma once

#include <string_view>
#include <vector>

namespace streamshift {

/// Runs the replay of `args` (the words after `replay`); the exit status:
/// 0 nothing failed, 1 a delivery failed, 2 bad arguments or configuration,
/// 3 Redis unreachable or failing.
int run_replay(const std::vector<std::string_view>& args);

}  // namespace streamshift
