// Fuzz target: route files (RouteTable::parse, proxy/routes).
//
// Input: a YAML or JSON document, as STREAMSHIFT_ROUTES_FILE would hold.
// Parsing never throws or crashes; a table it accepts is consistent
// (non-empty, paths start with '/', streams named, methods upper-cased,
// segments and the {room_id} index as the pattern says), and every route's
// own path, captures filled in, is matched as the reference matcher says.
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.h"
#include "fuzz/route_reference.h"
#include "proxy/routes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace streamshift;
  using namespace streamshift::fuzz;
  std::string text(reinterpret_cast<const char*>(data), size);
  std::string why;
  std::optional<RouteTable> table = RouteTable::parse(text, &why);
  if (!table) {
    FUZZ_CHECK(!why.empty(), "a refusal says why");
    return 0;
  }
  FUZZ_CHECK(!table->routes().empty(), printable(text));
  for (const Route& r : table->routes()) {
    std::string what = r.method + " " + printable(r.pattern) + " -> " + printable(r.stream);
    FUZZ_CHECK(!r.pattern.empty() && r.pattern[0] == '/' && !r.stream.empty(), what);
    for (char c : r.method) FUZZ_CHECK(!(c >= 'a' && c <= 'z'), what);
    std::string joined;
    int room = -1;
    for (size_t i = 0; i < r.segments.size(); ++i) {
      joined += "/" + r.segments[i];
      if (r.segments[i] == "{room_id}") room = static_cast<int>(i);
    }
    FUZZ_CHECK(joined == r.pattern && room == r.room_segment, what);

    std::string sample;
    for (const std::string& segment : r.segments)
      sample += "/" + (is_capture(segment) ? "x" : segment);
    check_match(*table, r.method, sample);
  }
  return 0;
}
