// The event_type of a body the sidecar does not validate: with the master
// switch off, every event is still counted by type, but a body the app has
// always sent must never be refused or slowed by a full parse. One scan for
// the top-level-looking key, no allocation, no verdict on the rest.
#pragma once

#include <string_view>

namespace streamshift {

/// The string value of the first `"event_type"` key in `body`, or
/// "unknown" when there is none, it is not a plain string (escapes
/// included), or it is empty.
std::string_view peek_event_type(std::string_view body);

}  // namespace streamshift
