// The route table: which requests are events, and into which stream.
//
// A route is a method and a path pattern whose segments are literal or a
// capture ("{room_id}"; other names match any segment). A route may fix the
// event_type. Requests that match no route are bridged over HTTP unchanged.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace streamshift {

struct Route {
  std::string method;
  std::string pattern;
  std::string stream;
  std::string event_type;             // empty: taken from the body
  std::vector<std::string> segments;  // "{name}" marks a capture
  int room_segment = -1;              // index of "{room_id}", or -1
  /// The physical streams of `stream` (core/stream_shards.h), named once
  /// at start: a room's is picked per event without allocating.
  std::vector<std::string> shards;

  /// The physical stream a room's events go to.
  std::string_view stream_for(std::string_view room_id) const;
};

struct RouteMatch {
  const Route* route = nullptr;
  std::string_view room_id;  // from the path, when the route captures it
};

class RouteTable {
 public:
  /// The SignalR internal API's broadcast endpoints.
  static RouteTable defaults();
  /// Parses a YAML or JSON document: a list of routes, or {routes: [...]}.
  static std::optional<RouteTable> parse(const std::string& text, std::string* why);
  static std::optional<RouteTable> load_file(const std::string& path, std::string* why);

  /// `target` may carry a query string; it is ignored for matching.
  std::optional<RouteMatch> match(std::string_view method, std::string_view target) const;
  const std::vector<Route>& routes() const { return routes_; }
  /// Splits every route's stream into `shards` physical streams (1: the
  /// stream itself). Done once, before any request.
  void split_streams(int shards);

 private:
  bool add(std::string method, std::string pattern, std::string stream, std::string event_type,
           std::string* why);
  std::vector<Route> routes_;
};

}  // namespace streamshift
