// Settings of the upstream HTTP client that the sidecar and the relay share,
// read the same way by both (names and defaults in README.md).
#pragma once

#include <cstddef>

#include "core/env_config.h"

namespace streamshift {

/// STREAMSHIFT_MAX_RESPONSE_BYTES: the largest upstream response body
/// accepted (UpstreamOptions::max_response_bytes); default 8 MiB.
size_t load_max_response_bytes(EnvReader& env);

}  // namespace streamshift
