// Fuzz target: event field extraction from JSON bodies (proxy/event_fields).
//
// Input: an HTTP request body. Each input is read twice, once from a string
// with SIMDJSON_PADDING bytes of spare capacity (parsed in place, as the
// ingress does) and once from a string without (copied), and the two
// results must be identical. When simdjson's DOM parser, which validates the
// whole document, finds a JSON object, the result must be what the
// contract says for it (fields in order, the last occurrence wins, strings
// unescaped, numbers as written, a null user_id absent, any other type an
// error naming the field).
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "proxy/event_fields.h"

namespace streamshift::fuzz {
namespace {

struct Result {
  bool ok = false;
  EventFields fields;
  std::string error_field, detail;
};

Result read(const std::string& body) {
  Result r;
  r.ok = read_event_fields(body, &r.fields, &r.error_field, &r.detail);
  return r;
}

bool same(const Result& a, const Result& b) {
  return a.ok == b.ok && a.error_field == b.error_field && a.detail == b.detail &&
         a.fields.event_id == b.fields.event_id && a.fields.event_type == b.fields.event_type &&
         a.fields.room_id == b.fields.room_id && a.fields.user_id == b.fields.user_id &&
         a.fields.has_user_id == b.fields.has_user_id;
}

std::string describe(const Result& r) {
  return std::string(r.ok ? "ok" : "error ") + r.error_field + " | event_id " +
         printable(r.fields.event_id) + " | event_type " + printable(r.fields.event_type) +
         " | room_id " + printable(r.fields.room_id) + " | user_id " + printable(r.fields.user_id) +
         (r.fields.has_user_id ? " (set)" : "");
}

// A number as the reader returned it must be that same number.
bool same_number(const std::string& text, simdjson::dom::element expected) {
  simdjson::dom::parser p;
  simdjson::dom::element e;
  if (p.parse(text).get(e) != simdjson::SUCCESS) return false;
  if (e.type() != expected.type()) return false;
  switch (e.type()) {
    case simdjson::dom::element_type::INT64:
      return int64_t(e) == int64_t(expected);
    case simdjson::dom::element_type::UINT64:
      return uint64_t(e) == uint64_t(expected);
    case simdjson::dom::element_type::DOUBLE:
      return double(e) == double(expected) ||
             (double(e) != double(e) && double(expected) != double(expected));
    default:
      return false;
  }
}

void check_against_dom(const std::string& body, const Result& got) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(body).get(object) != simdjson::SUCCESS) return;  // not a valid JSON object
  std::string what = describe(got) + "\n  body: " + printable(body);
  Result want;
  want.ok = true;
  simdjson::dom::element numbers[4];  // the DOM's value of each numeric field
  bool numeric[4] = {};
  std::string* targets[4] = {&want.fields.event_id, &want.fields.event_type, &want.fields.room_id,
                             &want.fields.user_id};
  for (auto [key, value] : object) {
    int i = key == "event_id"     ? 0
            : key == "event_type" ? 1
            : key == "room_id"    ? 2
            : key == "user_id"    ? 3
                                  : -1;
    if (i < 0) continue;
    if (i == 3 && value.is_null()) {
      // A later "user_id": null wins over an earlier value, as the last
      // duplicate key wins everywhere (and in the app's own json module).
      numeric[3] = false;
      targets[3]->clear();
      want.fields.has_user_id = false;
      continue;
    }
    if (value.is_string()) {
      *targets[i] = std::string(std::string_view(value));
      numeric[i] = false;
    } else if (value.is_number()) {
      numbers[i] = value;
      numeric[i] = true;
    } else {
      want.ok = false;
      want.error_field = std::string(key);
      break;
    }
    if (i == 3) want.fields.has_user_id = true;
  }
  FUZZ_CHECK(got.ok == want.ok, what);
  if (!got.ok) {
    FUZZ_CHECK(got.error_field == want.error_field, what);
    return;
  }
  const std::string* values[4] = {&got.fields.event_id, &got.fields.event_type, &got.fields.room_id,
                                  &got.fields.user_id};
  for (int i = 0; i < 4; ++i) {
    if (numeric[i]) {
      FUZZ_CHECK(same_number(*values[i], numbers[i]), what);
    } else {
      FUZZ_CHECK(*values[i] == *targets[i], what);
    }
  }
  FUZZ_CHECK(got.fields.has_user_id == want.fields.has_user_id, what);
}

}  // namespace
}  // namespace streamshift::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace streamshift::fuzz;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  std::string in_place;
  in_place.reserve(size + simdjson::SIMDJSON_PADDING);
  in_place.assign(input);
  std::string copied(input);
  copied.shrink_to_fit();

  Result a = read(in_place);
  Result b = read(copied);
  FUZZ_CHECK(same(a, b), "in place: " + describe(a) + "\n  copied:   " + describe(b) +
                             "\n  body: " + printable(input));
  if (!a.ok) FUZZ_CHECK(!a.error_field.empty() && !a.detail.empty(), describe(a));
  check_against_dom(copied, a);
  return 0;
}
