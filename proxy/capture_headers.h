// STREAMSHIFT_CAPTURE_HEADERS: the request headers the sidecar stores in an
// event's entry as `h:<lower-case name>` fields (docs/event-entry.md), for
// the relay to replay: traces cross the stream, the app's request id reaches
// SignalR. The list is read once at start; per event, the headers are looked
// up in the request the ingress already parsed, and the entry views them.
//
// Refused at start: names core/event_entry.h entry_header_refusal refuses
// (credentials, names the relay sets itself, hop-by-hop headers, non-tokens;
// the relay skips the same names in an entry), repeats, more than
// kMaxEntryHeaders names.
#pragma once

#include <string>
#include <vector>

#include "core/env_config.h"
#include "core/event_entry.h"
#include "core/http_message.h"

namespace streamshift {

struct CaptureHeaders {
  std::vector<std::string> names;   // lower-case
  std::vector<std::string> fields;  // "h:" + name, the entry's field names
};

/// Captures nothing (an empty list; tests).
inline const CaptureHeaders kNoCapture{};

/// The list's names, lower-cased, into `out`; an error naming the first bad
/// item (the list holds no secret), or empty.
std::string parse_capture_headers(const std::vector<std::string>& list, CaptureHeaders* out);

/// Reads STREAMSHIFT_CAPTURE_HEADERS; a bad list is recorded in env.errors().
CaptureHeaders load_capture_headers(EnvReader& env);

/// Adds to `entry` the captured headers `request` has (present, with a
/// replayable value); views into `capture` and `request`, no copy.
void capture_request_headers(const CaptureHeaders& capture, const HeaderBlock& request,
                             EventEntry* entry);

}  // namespace streamshift
