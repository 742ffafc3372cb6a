// Event field extraction with simdjson on-demand; see event_fields.h.
#include "proxy/event_fields.h"

#include <simdjson.h>

namespace streamshift {
namespace {

namespace od = simdjson::ondemand;

// What reading a value found.
enum class Verdict {
  kValid,
  kWrongType,  // valid JSON, but not a string or number where one is needed
  kInvalid,    // not JSON
  kTooDeep,    // containers nested deeper than kMaxNesting
};

// Nesting allowed under the top-level object (RFC 8259 lets a parser limit
// it). simdjson 3.0's on-demand API does not check depth in a release build
// (only a debug assertion at its max_depth, 1024), and the validation below
// recurses: without this a body of nested brackets would overflow the stack.
constexpr int kMaxNesting = 1000;

// RFC 8259's number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, of any
// magnitude (simdjson's own number parsing refuses what a double cannot hold).
bool valid_number(std::string_view s) {
  size_t i = 0, n = s.size();
  auto digits = [&] {
    size_t start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < n && s[i] == '-') ++i;
  if (i < n && s[i] == '0')
    ++i;
  else if (!digits())
    return false;
  if (i < n && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == n;
}

// A number's text as written, without the whitespace simdjson leaves after it.
std::string_view number_text(od::value& value) {
  std::string_view raw = value.raw_json_token();
  while (!raw.empty() &&
         (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t')) {
    raw.remove_suffix(1);
  }
  return raw;
}

// Visits a value the sidecar does not need, only to validate it: on-demand
// checks nothing it skips.
Verdict check_value(od::value value, int depth_left) {
  od::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return Verdict::kInvalid;
  switch (type) {
    case od::json_type::object: {
      od::object object;
      if (depth_left == 0) return Verdict::kTooDeep;
      if (value.get_object().get(object) != simdjson::SUCCESS) return Verdict::kInvalid;
      for (auto field_result : object) {
        od::field field;
        std::string_view key;
        if (std::move(field_result).get(field) != simdjson::SUCCESS ||
            field.unescaped_key().get(key) != simdjson::SUCCESS) {
          return Verdict::kInvalid;
        }
        Verdict v = check_value(field.value(), depth_left - 1);
        if (v != Verdict::kValid) return v;
      }
      return Verdict::kValid;
    }
    case od::json_type::array: {
      od::array array;
      if (depth_left == 0) return Verdict::kTooDeep;
      if (value.get_array().get(array) != simdjson::SUCCESS) return Verdict::kInvalid;
      for (auto element_result : array) {
        od::value element;
        if (std::move(element_result).get(element) != simdjson::SUCCESS) return Verdict::kInvalid;
        Verdict v = check_value(element, depth_left - 1);
        if (v != Verdict::kValid) return v;
      }
      return Verdict::kValid;
    }
    case od::json_type::string: {
      std::string_view s;
      return value.get_string().get(s) == simdjson::SUCCESS ? Verdict::kValid : Verdict::kInvalid;
    }
    case od::json_type::number:
      return valid_number(number_text(value)) ? Verdict::kValid : Verdict::kInvalid;
    case od::json_type::boolean: {
      bool b;
      return value.get_bool().get(b) == simdjson::SUCCESS ? Verdict::kValid : Verdict::kInvalid;
    }
    case od::json_type::null: {
      bool is_null = false;
      return value.is_null().get(is_null) == simdjson::SUCCESS && is_null ? Verdict::kValid
                                                                          : Verdict::kInvalid;
    }
  }
  return Verdict::kInvalid;
}

// A string or number value as text (a number as written).
Verdict scalar_text(od::value value, std::string* out) {
  od::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return Verdict::kInvalid;
  if (type == od::json_type::string) {
    std::string_view s;
    if (value.get_string().get(s) != simdjson::SUCCESS) return Verdict::kInvalid;
    out->assign(s);
    return Verdict::kValid;
  }
  if (type == od::json_type::number) {
    std::string_view text = number_text(value);
    if (!valid_number(text)) return Verdict::kInvalid;
    out->assign(text);
    return Verdict::kValid;
  }
  Verdict v = check_value(value, kMaxNesting);
  return v == Verdict::kValid ? Verdict::kWrongType : v;
}

bool refuse(std::string_view field, std::string_view detail, std::string* error_field,
            std::string* error_detail) {
  error_field->assign(field);
  error_detail->assign(detail);
  return false;
}

}  // namespace

bool read_event_fields(const std::string& body, EventFields* out, std::string* error_field,
                       std::string* detail) {
  constexpr std::string_view kNotJson = "the body is not valid JSON";
  constexpr std::string_view kTooDeep = "the body nests arrays and objects deeper than 1000 levels";
  thread_local od::parser parser;
  simdjson::padded_string copy;
  simdjson::padded_string_view input;
  if (body.capacity() - body.size() >= simdjson::SIMDJSON_PADDING) {
    input = simdjson::padded_string_view(body.data(), body.size(), body.capacity());
  } else {
    copy = simdjson::padded_string(body);
    input = copy;
  }
  od::document doc;
  od::object object;
  if (parser.iterate(input).get(doc) != simdjson::SUCCESS)
    return refuse("body", kNotJson, error_field, detail);
  if (simdjson::error_code error = doc.get_object().get(object); error != simdjson::SUCCESS) {
    return refuse(
        "body",
        error == simdjson::INCORRECT_TYPE ? "the body of an event must be a JSON object" : kNotJson,
        error_field, detail);
  }
  for (auto field_result : object) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) != simdjson::SUCCESS ||
        field.unescaped_key().get(key) != simdjson::SUCCESS) {
      return refuse("body", kNotJson, error_field, detail);
    }
    std::string* target = nullptr;
    if (key == "event_id")
      target = &out->event_id;
    else if (key == "event_type")
      target = &out->event_type;
    else if (key == "room_id")
      target = &out->room_id;
    else if (key == "user_id")
      target = &out->user_id;
    od::value value = field.value();
    od::json_type type;
    Verdict verdict;
    if (target == nullptr) {
      verdict = check_value(value, kMaxNesting);
    } else if (key == "user_id" && value.type().get(type) == simdjson::SUCCESS &&
               type == od::json_type::null) {
      verdict = check_value(value, kMaxNesting);  // null: no user_id
      out->user_id.clear();
      out->has_user_id = false;
    } else {
      verdict = scalar_text(value, target);
      if (key == "user_id") out->has_user_id = true;
    }
    switch (verdict) {
      case Verdict::kValid:
        break;
      case Verdict::kWrongType:
        return refuse(key, std::string(key) + " must be a string or a number", error_field, detail);
      case Verdict::kInvalid:
        return refuse("body", kNotJson, error_field, detail);
      case Verdict::kTooDeep:
        return refuse("body", kTooDeep, error_field, detail);
    }
  }
  // Nothing but whitespace may follow the object (a second object, say).
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) != simdjson::OUT_OF_BOUNDS)
    return refuse("body", kNotJson, error_field, detail);
  return true;
}

}  // namespace streamshift
