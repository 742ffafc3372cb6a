// A small JSON writer for the documents the admin listeners answer: values
// are appended in order and the commas placed by the writer, so a body is
// never assembled from hand-joined fragments. Strings are escaped by
// append_json_string (core/json.h). Nesting is the caller's to balance.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace streamshift {

class JsonWriter {
 public:
  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }

  /// An object member's name; its value comes next.
  JsonWriter& key(std::string_view name);

  JsonWriter& string(std::string_view text);
  JsonWriter& boolean(bool value);
  JsonWriter& null();
  template <std::integral T>
  requires(!std::same_as<T, bool>) JsonWriter& number(T value) {
    return raw(std::to_string(value));
  }

  /// A value that is already valid JSON (checked by the caller), as it is.
  JsonWriter& json(std::string_view valid_json) { return raw(valid_json); }

  /// The document so far; the writer is left empty.
  std::string take();

 private:
  JsonWriter& open(char bracket);
  JsonWriter& close(char bracket);
  JsonWriter& raw(std::string_view text);
  void separate();
  JsonWriter& value_written();

  std::string out_;
  bool after_value_ = false;  // the next value or key needs a comma first
};

}  // namespace streamshift
