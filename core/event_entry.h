// The event entry, contract v1: the Redis Streams entry the sidecar writes
// for each event and every consumer (the relay) replays. docs/event-entry.md
// states the same rules for people; keep the two in step.
//
// One check decides what a valid entry is, for both programs:
//
//   sidecar: request -> EventEntry -> check_entry -> 400 invalid_event, or
//            EncodedEntry -> XADD
//   relay:   XREADGROUP fields -> decode_entry (version, presence, ts_ms
//            text, then check_entry) -> deliver, or dead-letter as malformed
//
// so nothing the sidecar stores is refused by the relay.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace streamshift {

/// The value of the `v` field.
inline constexpr std::string_view kEntryVersion = "1";

/// The contract's field names, in the order they are written.
namespace entry_field {
inline constexpr std::string_view kVersion = "v";
inline constexpr std::string_view kEventId = "event_id";
inline constexpr std::string_view kEventType = "event_type";
inline constexpr std::string_view kRoomId = "room_id";
inline constexpr std::string_view kUserId = "user_id";  // optional
inline constexpr std::string_view kTsMs = "ts_ms";
inline constexpr std::string_view kMethod = "method";
inline constexpr std::string_view kPath = "path";
inline constexpr std::string_view kContentType = "content_type";
inline constexpr std::string_view kBody = "body";
/// Captured request headers (a minor addition to v1): `h:<lower-case name>`,
/// after the body, at most kMaxEntryHeaders of them.
inline constexpr std::string_view kHeaderPrefix = "h:";
}  // namespace entry_field

/// Captured headers an entry carries at most (STREAMSHIFT_CAPTURE_HEADERS
/// names no more; the relay replays no more).
inline constexpr size_t kMaxEntryHeaders = 8;

/// A captured request header: `field` is the whole field name (`h:<name>`).
struct EntryHeader {
  std::string_view field;
  std::string_view value;
  std::string_view name() const { return field.substr(entry_field::kHeaderPrefix.size()); }
};

/// Header names the relay writes itself into every replayed request (Host,
/// Content-Length, Content-Type, Transfer-Encoding, Connection, X-Event-Id,
/// X-Event-Transport; any case): never taken from an entry or a headers file.
bool is_relay_set_header(std::string_view name);

/// Why a header name is never carried in an entry's `h:` fields. One rule for
/// both programs: the sidecar refuses to capture such a name at start
/// (STREAMSHIFT_CAPTURE_HEADERS), the relay and `streamshift replay` skip an
/// `h:` field naming one (an entry XADDed by hand, a redriven dead letter).
enum class HeaderRefusal {
  kNone,        // replayable
  kNotToken,    // not an HTTP token (empty included)
  kCredential,  // Authorization, Proxy-Authorization, Cookie, Set-Cookie
  kRelaySet,    // is_relay_set_header
  kHopByHop,    // is_hop_by_hop_header (Upgrade, Expect, TE, ...)
};

/// The refusal for `name` (any case), or kNone; credentials are named first.
HeaderRefusal entry_header_refusal(std::string_view name);

/// A name the relay may replay from an entry: entry_header_refusal is kNone.
bool replayable_header_name(std::string_view name);

/// An `h:` header the relay replays: a replayable_header_name, and the value
/// without control characters other than tab.
bool replayable_entry_header(std::string_view name, std::string_view value);

/// An HTTP token (RFC 9110 5.6.2): what a method or a header name is made of.
bool is_http_token(std::string_view s);

/// A header field value (RFC 9110 5.5): no control character other than tab.
bool valid_header_value(std::string_view value);

/// The latest ts_ms allowed: 9999-12-31T23:59:59.999Z. With ts_ms in
/// [0, kMaxEntryTsMs], `now - ts_ms` cannot overflow.
inline constexpr int64_t kMaxEntryTsMs = 253402300799999;

/// An entry's values, as views (into a request, or into the fields read).
struct EventEntry {
  std::string_view event_id;
  std::string_view event_type;
  std::string_view room_id;
  std::string_view user_id;
  bool has_user_id = false;
  int64_t ts_ms = 0;
  std::string_view method;
  std::string_view path;  // the request target: path and query
  std::string_view content_type;
  std::string_view body;  // verbatim
  /// Captured headers (`h:` fields), replayable ones only (replayable_entry_header).
  EntryHeader headers[kMaxEntryHeaders];
  size_t header_count = 0;
};

/// Why an entry breaks the contract: the field at fault (an entry_field
/// name) and a sentence saying which bytes that field allows.
struct EntryViolation {
  std::string_view field;
  std::string_view detail;
};

/// Checks every value against contract v1; nullopt when the entry is valid.
std::optional<EntryViolation> check_entry(const EventEntry& entry);

/// The field/value strings of an entry in contract order (v first, user_id
/// only when present, the captured headers last), ready to follow `XADD <stream> ... *`. The
/// strings view `entry` and this object (the ts_ms text): keep both alive.
class EncodedEntry {
 public:
  explicit EncodedEntry(const EventEntry& entry);
  EncodedEntry(const EncodedEntry&) = delete;
  EncodedEntry& operator=(const EncodedEntry&) = delete;

  static constexpr size_t kMaxStrings = 20 + 2 * kMaxEntryHeaders;
  size_t size() const { return count_; }
  std::string_view operator[](size_t i) const { return strings_[i]; }

 private:
  char ts_text_[24];
  std::string_view strings_[kMaxStrings];
  size_t count_ = 0;
};

/// Reads an entry from its stored field/value pairs (any order; unknown
/// fields ignored; the first of repeated names counts; `h:` fields that are
/// not replayable skipped, the first kMaxEntryHeaders kept): the version first,
/// then every required field, the ts_ms text, then check_entry. Returns why
/// the entry is malformed ("missing field room_id", "invalid path: ..."),
/// or an empty string when `out` holds a valid entry (views into `fields`).
std::string decode_entry(const std::vector<std::pair<std::string, std::string>>& fields,
                         EventEntry* out);

}  // namespace streamshift
