// The JSON writer; see json_writer.h.
#include "core/json_writer.h"

#include <utility>

#include "core/json.h"

namespace streamshift {

void JsonWriter::separate() {
  if (after_value_) out_ += ',';
  after_value_ = false;
}

JsonWriter& JsonWriter::value_written() {
  after_value_ = true;
  return *this;
}

JsonWriter& JsonWriter::open(char bracket) {
  separate();
  out_ += bracket;
  return *this;
}

JsonWriter& JsonWriter::close(char bracket) {
  out_ += bracket;
  return value_written();
}

JsonWriter& JsonWriter::key(std::string_view name) {
  separate();
  append_json_string(out_, name);
  out_ += ':';
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view text) {
  separate();
  out_ += text;
  return value_written();
}

JsonWriter& JsonWriter::string(std::string_view text) {
  separate();
  append_json_string(out_, text);
  return value_written();
}

JsonWriter& JsonWriter::boolean(bool value) {
  return raw(value ? "true" : "false");
}

JsonWriter& JsonWriter::null() {
  return raw("null");
}

std::string JsonWriter::take() {
  after_value_ = false;
  return std::exchange(out_, {});
}

}  // namespace streamshift
