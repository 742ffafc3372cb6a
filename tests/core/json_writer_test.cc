#include "core/json_writer.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace streamshift {
namespace {

TEST(JsonWriter, PlacesCommasBetweenMembersAndElementsOnly) {
  JsonWriter json;
  json.begin_object().key("a").number(1).key("b").begin_array();
  json.string("x").begin_object().end_object().begin_array().end_array().null();
  json.end_array().key("c").boolean(false).end_object();
  EXPECT_EQ(json.take(), R"({"a":1,"b":["x",{},[],null],"c":false})");
}

TEST(JsonWriter, EscapesKeysAndStrings) {
  JsonWriter json;
  json.begin_object().key("k\"1").string("line\nbad\xff").end_object();
  EXPECT_EQ(json.take(), "{\"k\\\"1\":\"line\\nbad\\ufffd\"}");
}

TEST(JsonWriter, WritesEveryIntegerTypeAsDecimal) {
  JsonWriter json;
  json.begin_array().number(int64_t{-1}).number(size_t{18446744073709551615u});
  json.number(0).number(uint16_t{65535}).end_array();
  EXPECT_EQ(json.take(), "[-1,18446744073709551615,0,65535]");
}

TEST(JsonWriter, TakeLeavesAnEmptyWriterForTheNextDocument) {
  JsonWriter json;
  json.begin_object().key("a").number(1).end_object();
  EXPECT_EQ(json.take(), R"({"a":1})");
  json.begin_object().key("b").number(2).end_object();
  EXPECT_EQ(json.take(), R"({"b":2})");
}

}  // namespace
}  // namespace streamshift
