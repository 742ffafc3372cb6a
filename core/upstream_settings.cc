// Shared upstream client settings; see upstream_settings.h.
#include "core/upstream_settings.h"

namespace streamshift {

size_t load_max_response_bytes(EnvReader& env) {
  return static_cast<size_t>(env.integer(
      "STREAMSHIFT_MAX_RESPONSE_BYTES", 8 * 1024 * 1024, 1024, 1024 * 1024 * 1024,
      "largest upstream response body accepted (beyond: 502, or a failed relay delivery)"));
}

}  // namespace streamshift
