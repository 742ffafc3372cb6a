// The relay's runtime-capable variables (issue 19): its concurrency, its
// retry delays and the dedup TTL. The relay runs on one loop, where the
// runtime control runs too: an accepted set is written into the relay's
// settings there, between two callbacks, and read at each use.
#pragma once

#include <string>
#include <vector>

#include "core/runtime_layers.h"
#include "relay/relay_settings.h"

namespace streamshift {

const std::vector<std::string>& relay_runtime_names();

/// The start's rules and messages over `merged` (then the environment): ""
/// or the error report.
std::string validate_relay_runtime(const RuntimeValues& merged);

/// Writes the runtime-capable fields read from `merged` (validated) into
/// `settings`; everything else stays.
void apply_relay_runtime(RelaySettings& settings, const RuntimeValues& merged);

}  // namespace streamshift
