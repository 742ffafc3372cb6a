// The relay's admin listener is core/admin_router.h's AdminListener on the
// relay's own loop (the relay is not a data plane with a latency budget of
// its own): /metrics (relay metrics + process_*), /healthz (the loop
// answers) and /readyz, whose answer is this.
#pragma once

#include <string_view>

#include "core/admin_router.h"

namespace streamshift {

/// /readyz: 200 {"status":"ready"} when `not_ready_reason` is empty (Redis
/// connected, groups in place, not draining), else 503 {"status":"<reason>"}.
ProbeAnswer relay_readiness(std::string_view not_ready_reason);

}  // namespace streamshift
