// HTTP/1.1 message pieces shared by the ingress server and the upstream client.
//
// Header names and values live in one reusable storage string per message
// (with offsets into it), so a keep-alive connection parses requests without
// allocating once its buffers have grown to the working size.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace streamshift {

bool iequals(std::string_view a, std::string_view b);

/// Connection-level headers that a proxy must not forward (RFC 9110 7.6.1).
bool is_hop_by_hop_header(std::string_view name);

/// Header fields of one message, stored contiguously.
class HeaderBlock {
 public:
  size_t size() const { return refs_.size(); }
  std::string_view name(size_t i) const { return view(refs_[i].name_off, refs_[i].name_len); }
  std::string_view value(size_t i) const { return view(refs_[i].value_off, refs_[i].value_len); }

  /// The first value of `name` (case-insensitive), if present.
  std::optional<std::string_view> find(std::string_view name) const;
  /// How many fields are named `name`.
  size_t count(std::string_view name) const;

  void add(std::string_view name, std::string_view value);
  /// Parser support: append a fragment of the current field's name or value.
  void append_name_fragment(std::string_view fragment);
  void append_value_fragment(std::string_view fragment);
  /// Parser support: drop trailing whitespace from the last value.
  void finish_value();

  /// Extra scratch text stored with the headers (the request target, the reason phrase).
  std::string_view stash(std::string_view text, uint32_t* offset);
  std::string_view view(uint32_t off, uint32_t len) const {
    return std::string_view(storage_).substr(off, len);
  }
  std::string& storage() { return storage_; }
  size_t bytes() const { return storage_.size(); }

  void clear() {
    storage_.clear();
    refs_.clear();
    in_value_ = false;
  }

 private:
  struct Ref {
    uint32_t name_off, name_len, value_off, value_len;
  };
  std::string storage_;
  std::vector<Ref> refs_;
  bool in_value_ = false;
};

/// Which fields of a message a proxy forwards: all but hop-by-hop ones and
/// those the Connection header names (RFC 9110 7.6.1). Built once per
/// message: nothing to do when Connection names no end-to-end field, a scan
/// of the names per token for up to 8 tokens, else the names are sorted
/// once: O(n log n + t log n) for n fields and t tokens, so a hostile head
/// cannot make forwarding quadratic.
class ForwardedFields {
 public:
  explicit ForwardedFields(const HeaderBlock& headers);
  bool forwarded(size_t i) const {
    return !is_hop_by_hop_header(headers_.name(i)) && (listed_.empty() || !listed_[i]);
  }

 private:
  const HeaderBlock& headers_;
  std::vector<bool> listed_;  // named in Connection; empty when none is
};

/// HTAB, SP, visible ASCII and obs-text only: no control characters.
bool is_field_text(std::string_view text);

/// True when the path of `target` (before '?') has a "." or ".." segment,
/// dots possibly percent-encoded, segments split at '/', '\\', %2F or %5C:
/// what could climb out of an upstream's path prefix.
bool has_dot_segment(std::string_view target);

/// An RFC 9110 tchar: what a method or a header field name is made of.
bool is_tchar(unsigned char c);

/// A request as received by the ingress.
struct HttpRequest {
  std::string_view method;  // static storage (llhttp's method names)
  uint32_t target_off = 0, target_len = 0;
  uint8_t version_major = 1, version_minor = 1;
  bool keep_alive = true;
  bool chunked = false;
  HeaderBlock headers;
  std::string body;

  std::string_view target() const { return headers.view(target_off, target_len); }
  void clear() {
    method = {};
    target_off = target_len = 0;
    version_major = version_minor = 1;
    keep_alive = true;
    chunked = false;
    headers.clear();
    body.clear();
  }
};

/// The canonical reason phrase of a status code ("" if unknown).
std::string_view status_reason(int status);

/// "HTTP/1.1 <status> <reason>\r\n" + headers + extra + Content-Length + Connection.
/// `extra_headers` is pre-serialized "Name: value\r\n" text.
/// Hop-by-hop headers and Content-Length in `headers` are dropped; the body
/// length is written unless `keep_content_length` (HEAD/204/304 responses
/// pass the upstream's Content-Length through).
void serialize_response_head(std::string& out, int status, std::string_view reason,
                             const HeaderBlock* headers, std::string_view content_type,
                             size_t body_length, bool keep_content_length, bool close,
                             std::string_view extra_headers = {});

}  // namespace streamshift
