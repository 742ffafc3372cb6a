// A plain reference for RouteTable::match, shared by the route targets.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "proxy/routes.h"

namespace streamshift::fuzz {

/// "/a/b" -> {"a", "b"}; "/" -> {""}.
inline std::vector<std::string_view> path_segments(std::string_view path) {
  return split(path.substr(1), '/');
}

inline bool is_capture(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

/// Index of the first route matching, and the room_id it captures.
inline std::optional<std::pair<size_t, std::string_view>> reference_match(const RouteTable& table,
                                                                          std::string_view method,
                                                                          std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path.empty() || path[0] != '/') return std::nullopt;
  std::vector<std::string_view> segments = path_segments(path);
  const std::vector<Route>& routes = table.routes();
  for (size_t r = 0; r < routes.size(); ++r) {
    const Route& route = routes[r];
    if (route.method != method || route.segments.size() != segments.size()) continue;
    bool ok = true;
    for (size_t i = 0; ok && i < segments.size(); ++i) {
      ok = is_capture(route.segments[i]) ? !segments[i].empty() : segments[i] == route.segments[i];
    }
    if (!ok) continue;
    std::string_view room = route.room_segment >= 0
                                ? segments[static_cast<size_t>(route.room_segment)]
                                : std::string_view();
    return std::make_pair(r, room);
  }
  return std::nullopt;
}

/// RouteTable::match against the reference; `target` must outlive the call.
inline void check_match(const RouteTable& table, const std::string& method,
                        const std::string& target) {
  auto got = table.match(method, target);
  auto want = reference_match(table, method, target);
  std::string what = method + " " + printable(target);
  FUZZ_CHECK(got.has_value() == want.has_value(), what);
  if (!got) return;
  FUZZ_CHECK(got->route == &table.routes()[want->first], what + " -> " + got->route->pattern);
  FUZZ_CHECK(got->room_id == want->second, what + " room_id " + printable(got->room_id));
  if (!got->room_id.empty()) {  // a view into the target, never into a temporary
    FUZZ_CHECK(got->room_id.data() >= target.data() &&
                   got->room_id.data() + got->room_id.size() <= target.data() + target.size(),
               what);
    FUZZ_CHECK(got->room_id.find_first_of("/?") == std::string_view::npos, what);
  }
}

}  // namespace streamshift::fuzz
