// The sidecar's runtime-capable variables (issue 19) and how a runtime set
// becomes the transport settings the workers use.
#pragma once

#include <string>
#include <vector>

#include "core/runtime_layers.h"
#include "proxy/transport_settings.h"

namespace streamshift {

/// The variables a running sidecar takes from STREAMSHIFT_RUNTIME_DIR and
/// POST /runtime_modify: the rollout's, the publish's, coalescing's switch
/// and window, the circuit breaker's.
const std::vector<std::string>& sidecar_runtime_names();

/// The start's rules and messages over `merged` (then the environment): ""
/// or the error report.
std::string validate_sidecar_runtime(const RuntimeValues& merged);

/// `start` with its runtime-capable fields read from `merged` (then the
/// environment); everything else (Redis, TLS, routes) stays the start's.
/// `merged` was validated.
TransportSettings sidecar_runtime_transport(const TransportSettings& start,
                                            const RuntimeValues& merged);

}  // namespace streamshift
