// Fuzz target: the route matcher (proxy/routes) with a route file.
//
// The table is fuzz/data/routes.yaml (every pattern shape the route file
// allows), and the built-in table. Input: "METHOD TARGET" (no space: the
// whole input is a POST's target). Each match must be what a plain
// reference matcher says: the first route, in file order, whose method is
// the request's and whose segments equal the path's (captures match any
// non-empty segment), the query string ignored; room_id is the path's
// segment at the {room_id} capture, a view into the target.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "fuzz/route_reference.h"
#include "proxy/routes.h"

namespace {

const streamshift::RouteTable* file_table = nullptr;
const streamshift::RouteTable* builtin_table = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string why;
  auto t = streamshift::RouteTable::load_file(STREAMSHIFT_FUZZ_ROUTES_FILE, &why);
  FUZZ_CHECK(t.has_value(), why);
  file_table = new streamshift::RouteTable(std::move(*t));
  builtin_table = new streamshift::RouteTable(streamshift::RouteTable::defaults());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace streamshift::fuzz;
  std::string input(reinterpret_cast<const char*>(data), size);
  size_t space = input.find(' ');
  std::string method = space == std::string::npos ? "POST" : input.substr(0, space);
  std::string target = space == std::string::npos ? input : input.substr(space + 1);
  for (const streamshift::RouteTable* table : {file_table, builtin_table}) {
    check_match(*table, method, target);
  }
  return 0;
}
