// Route table; see routes.h.
#include "proxy/routes.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "core/stream_shards.h"

namespace streamshift {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

}  // namespace

bool RouteTable::add(std::string method, std::string pattern, std::string stream,
                     std::string event_type, std::string* why) {
  if (pattern.empty() || pattern[0] != '/') {
    *why = "route path \"" + pattern + "\" must start with /";
    return false;
  }
  if (stream.empty()) {
    *why = "route " + pattern + " has no stream";
    return false;
  }
  Route r;
  for (char& c : method) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  r.method = method;
  r.pattern = pattern;
  r.stream = std::move(stream);
  r.event_type = std::move(event_type);
  r.shards = {r.stream};
  for (std::string_view seg : split_path(pattern)) {
    if (seg == "{room_id}") r.room_segment = static_cast<int>(r.segments.size());
    r.segments.emplace_back(seg);
  }
  routes_.push_back(std::move(r));
  return true;
}

RouteTable RouteTable::defaults() {
  RouteTable t;
  std::string ignored;
  t.add("POST", "/internal/broadcast/chat", "events:chat", "", &ignored);
  t.add("POST", "/internal/broadcast/typing", "events:chat", "", &ignored);
  t.add("POST", "/internal/broadcast/ticket", "events:ticket", "", &ignored);
  t.add("POST", "/internal/broadcast/notification", "events:notification", "", &ignored);
  t.add("POST", "/internal/broadcast/remote", "events:remote", "", &ignored);
  return t;
}

std::optional<RouteTable> RouteTable::parse(const std::string& text, std::string* why) {
  RouteTable t;
  try {
    YAML::Node doc = YAML::Load(text);
    YAML::Node list = doc.IsMap() ? doc["routes"] : doc;
    if (!list || !list.IsSequence()) {
      *why = "expected a list of routes, or a map with a \"routes\" list";
      return std::nullopt;
    }
    for (const YAML::Node& n : list) {
      if (!n.IsMap() || !n["path"] || !n["stream"]) {
        *why = "every route needs \"path\" and \"stream\"";
        return std::nullopt;
      }
      std::string method = n["method"] ? n["method"].as<std::string>() : "POST";
      std::string event_type = n["event_type"] ? n["event_type"].as<std::string>() : "";
      if (!t.add(method, n["path"].as<std::string>(), n["stream"].as<std::string>(), event_type,
                 why)) {
        return std::nullopt;
      }
    }
  } catch (const YAML::Exception& e) {
    *why = std::string("not valid YAML or JSON: ") + e.what();
    return std::nullopt;
  }
  if (t.routes_.empty()) {
    *why = "the route table is empty";
    return std::nullopt;
  }
  return t;
}

std::optional<RouteTable> RouteTable::load_file(const std::string& path, std::string* why) {
  std::ifstream in(path);
  if (!in) {
    *why = "cannot read " + path;
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), why);
}

std::string_view Route::stream_for(std::string_view room_id) const {
  if (shards.size() <= 1) return stream;
  return shards[static_cast<size_t>(room_shard(room_id, static_cast<int>(shards.size())))];
}

void RouteTable::split_streams(int shards) {
  for (Route& r : routes_) r.shards = StreamShards({r.stream}, shards).physical();
}

std::optional<RouteMatch> RouteTable::match(std::string_view method,
                                            std::string_view target) const {
  std::string_view path = target.substr(0, target.find('?'));
  for (const Route& r : routes_) {
    if (r.method != method) continue;
    // Walk the path's segments against the pattern without allocating.
    size_t pos = 1, i = 0;
    std::string_view room;
    bool ok = !path.empty() && path[0] == '/';
    for (; ok && i < r.segments.size(); ++i) {
      if (pos > path.size()) {
        ok = false;
        break;
      }
      size_t slash = path.find('/', pos);
      if (slash == std::string_view::npos) slash = path.size();
      std::string_view seg = path.substr(pos, slash - pos);
      const std::string& want = r.segments[i];
      bool capture = want.size() > 2 && want.front() == '{' && want.back() == '}';
      if (capture) {
        if (seg.empty()) ok = false;
        if (static_cast<int>(i) == r.room_segment) room = seg;
      } else if (seg != want) {
        ok = false;
      }
      pos = slash + 1;
    }
    if (ok && pos == path.size() + 1) return RouteMatch{&r, room};
  }
  return std::nullopt;
}

}  // namespace streamshift
