// Event field extraction with simdjson on-demand; see event_fields.h.
#include "proxy/event_fields.h"

#include <simdjson.h>

namespace streamshift {
namespace {

// A string or number value as text; false for other types.
bool scalar_text(simdjson::ondemand::value value, std::string* out) {
  simdjson::ondemand::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return false;
  if (type == simdjson::ondemand::json_type::string) {
    std::string_view s;
    if (value.get_string().get(s) != simdjson::SUCCESS) return false;
    out->assign(s);
    return true;
  }
  if (type == simdjson::ondemand::json_type::number) {
    std::string_view raw = value.raw_json_token();
    while (!raw.empty() &&
           (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t')) {
      raw.remove_suffix(1);
    }
    out->assign(raw);
    return true;
  }
  return false;
}

}  // namespace

bool read_event_fields(const std::string& body, EventFields* out, std::string* error_field,
                       std::string* detail) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string copy;
  simdjson::padded_string_view input;
  if (body.capacity() - body.size() >= simdjson::SIMDJSON_PADDING) {
    input = simdjson::padded_string_view(body.data(), body.size(), body.capacity());
  } else {
    copy = simdjson::padded_string(body);
    input = copy;
  }
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (parser.iterate(input).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(object) != simdjson::SUCCESS) {
    *error_field = "body";
    *detail = "the body of an event must be a JSON object";
    return false;
  }
  for (auto field_result : object) {
    simdjson::ondemand::field field;
    std::string_view key;
    if (std::move(field_result).get(field) != simdjson::SUCCESS ||
        field.unescaped_key().get(key) != simdjson::SUCCESS) {
      *error_field = "body";
      *detail = "the body is not valid JSON";
      return false;
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
    if (target == nullptr) continue;
    simdjson::ondemand::value value = field.value();
    if (key == "user_id") {
      simdjson::ondemand::json_type type;
      if (value.type().get(type) == simdjson::SUCCESS &&
          type == simdjson::ondemand::json_type::null)
        continue;
    }
    if (!scalar_text(value, target)) {
      *error_field = std::string(key);
      *detail = std::string(key) + " must be a string or a number";
      return false;
    }
    if (key == "user_id") out->has_user_id = true;
  }
  return true;
}

}  // namespace streamshift
