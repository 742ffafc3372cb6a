// Percent-encoded request targets; see query_string.h.
#include "core/query_string.h"

namespace streamshift {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> percent_decoded(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = hex_digit(in[i + 1]);
      int lo = hex_digit(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::map<std::string, std::string>> parse_query_string(std::string_view query,
                                                                     std::string* why) {
  std::map<std::string, std::string> values;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::optional<std::string> name = percent_decoded(pair.substr(0, eq), true);
    std::optional<std::string> value =
        eq == std::string_view::npos ? std::nullopt : percent_decoded(pair.substr(eq + 1), true);
    if (!name || name->empty() || !value) {
      *why = "each parameter must be NAME=VALUE, percent-encoded: \"" + std::string(pair) + "\"";
      return std::nullopt;
    }
    values[*name] = *value;
  }
  return values;
}

}  // namespace streamshift
