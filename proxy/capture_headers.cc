// The captured request headers; see capture_headers.h.
#include "proxy/capture_headers.h"

namespace streamshift {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::string parse_capture_headers(const std::vector<std::string>& list, CaptureHeaders* out) {
  *out = {};
  for (const std::string& item : list) {
    std::string name = lower(item);
    HeaderRefusal refusal = entry_header_refusal(name);
    if (refusal == HeaderRefusal::kCredential)
      return item + " carries credentials: it is never stored in a stream";
    if (refusal != HeaderRefusal::kNone)
      return item +
             " cannot be captured (an HTTP token naming an end-to-end header the relay does not "
             "set itself)";
    for (const std::string& seen : out->names) {
      if (seen == name) return item + " is listed twice";
    }
    if (out->names.size() == kMaxEntryHeaders)
      return "at most " + std::to_string(kMaxEntryHeaders) + " headers";
    out->fields.push_back(std::string(entry_field::kHeaderPrefix) + name);
    out->names.push_back(std::move(name));
  }
  return {};
}

CaptureHeaders load_capture_headers(EnvReader& env) {
  constexpr std::string_view kName = "STREAMSHIFT_CAPTURE_HEADERS";
  std::vector<std::string> list =
      env.list(kName, "traceparent,tracestate,x-request-id",
               "request headers stored in the entry (h:<name>) and replayed by the relay; empty: "
               "none; never Authorization, Cookie");
  CaptureHeaders capture;
  if (std::string error = parse_capture_headers(list, &capture); !error.empty()) {
    std::string shown;
    for (const std::string& item : list) shown += (shown.empty() ? "" : ",") + item;
    env.reject(kName, shown, error);
    capture = {};
  }
  return capture;
}

void capture_request_headers(const CaptureHeaders& capture, const HeaderBlock& request,
                             EventEntry* entry) {
  for (size_t i = 0; i < capture.names.size() && entry->header_count < kMaxEntryHeaders; ++i) {
    std::optional<std::string_view> value = request.find(capture.names[i]);
    if (!value || value->empty() || !valid_header_value(*value)) continue;
    entry->headers[entry->header_count++] = {capture.fields[i], *value};
  }
}

}  // namespace streamshift
