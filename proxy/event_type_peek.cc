// A lenient event_type scan; see event_type_peek.h.
#include "proxy/event_type_peek.h"

namespace streamshift {
namespace {

constexpr std::string_view kKey = "\"event_type\"";
constexpr std::string_view kUnknown = "unknown";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

size_t skip_spaces(std::string_view s, size_t i) {
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

}  // namespace

std::string_view peek_event_type(std::string_view body) {
  size_t at = body.find(kKey);
  if (at == std::string_view::npos) return kUnknown;
  size_t i = skip_spaces(body, at + kKey.size());
  if (i >= body.size() || body[i] != ':') return kUnknown;
  i = skip_spaces(body, i + 1);
  if (i >= body.size() || body[i] != '"') return kUnknown;
  size_t start = i + 1;
  for (size_t j = start; j < body.size(); ++j) {
    unsigned char c = static_cast<unsigned char>(body[j]);
    if (c == '"') return j > start ? body.substr(start, j - start) : kUnknown;
    if (c == '\\' || c < 0x20) return kUnknown;
  }
  return kUnknown;
}

}  // namespace streamshift
