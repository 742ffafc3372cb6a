// RFC 3339 timestamps; see rfc3339.h.
#include "core/rfc3339.h"

namespace streamshift {
namespace {

// Reads exactly `n` digits at `pos` into `out`, advancing `pos`.
bool digits(std::string_view t, size_t& pos, size_t n, int& out) {
  if (pos + n > t.size()) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = t[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

bool expect(std::string_view t, size_t& pos, char a, char b = '\0') {
  if (pos >= t.size() || (t[pos] != a && (b == '\0' || t[pos] != b))) return false;
  ++pos;
  return true;
}

bool leap_year(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap_year(y) ? 29 : kDays[m - 1];
}

// Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's
// days_from_civil).
int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = y / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

std::optional<int64_t> parse_rfc3339_ms(std::string_view t) {
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!digits(t, pos, 4, year) || !expect(t, pos, '-') || !digits(t, pos, 2, month) ||
      !expect(t, pos, '-') || !digits(t, pos, 2, day) || !expect(t, pos, 'T', 't') ||
      !digits(t, pos, 2, hour) || !expect(t, pos, ':') || !digits(t, pos, 2, minute) ||
      !expect(t, pos, ':') || !digits(t, pos, 2, second))
    return std::nullopt;
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
      hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  int64_t millis = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    size_t first = pos;
    int scale = 100;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      millis += (t[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == first) return std::nullopt;
  }
  int64_t offset_minutes = 0;
  if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
    ++pos;
  } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
    int sign = t[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!digits(t, pos, 2, oh) || !expect(t, pos, ':') || !digits(t, pos, 2, om) || oh > 23 ||
        om > 59)
      return std::nullopt;
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (pos != t.size()) return std::nullopt;
  int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
                    offset_minutes * 60;
  // A leap second is inserted after 23:59:59 UTC: 60 anywhere else is no time.
  if (second == 60 && (seconds - 1) % 86400 != 86399) return std::nullopt;
  if (seconds < 0) return std::nullopt;
  return seconds * 1000 + millis;
}

}  // namespace streamshift
