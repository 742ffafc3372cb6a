// The admin endpoints that read or change what the program does are behind
// Authorization: Bearer <token> (STREAMSHIFT_ADMIN_TOKEN): no token
// configured answers 403 (the endpoint is off), a missing or wrong one 401
// with WWW-Authenticate. The comparison takes the same time whatever byte
// differs.
#pragma once

#include <string_view>

#include "core/http_server.h"

namespace streamshift {

/// True when `exchange` carries the bearer `token`; otherwise answers it
/// (403 when `token` is empty, saying `off_because`; else 401) and is false.
bool admin_authorized(Exchange& exchange, std::string_view token, std::string_view off_because);

/// Constant-time comparison (no early exit on the first differing byte).
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace streamshift
