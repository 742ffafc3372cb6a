// Whole decimal numbers from text; see decimal.h.
#include "core/decimal.h"

namespace streamshift {

std::optional<int64_t> parse_decimal(std::string_view text, int64_t min, int64_t max) {
  if (text.empty() || text.size() > 18) return std::nullopt;  // 18 digits never overflow
  int64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n < min || n > max) return std::nullopt;
  return n;
}

}  // namespace streamshift
