#include "proxy/event_fields.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

struct Parsed {
  bool ok;
  EventFields fields;
  std::string field, detail;
};

Parsed parse(std::string body, bool padded = true) {
  if (padded)
    body.reserve(body.size() + 64);
  else
    body.shrink_to_fit();
  Parsed p;
  p.ok = read_event_fields(body, &p.fields, &p.field, &p.detail);
  return p;
}

TEST(EventFields, ReadsStringsAndNumbers) {
  auto p = parse(
      R"({"event_type":"chat_message","room_id":42,"user_id":"u\"1","event_id":"e-1","text":{"deep":[1,2]}})");
  ASSERT_TRUE(p.ok) << p.detail;
  EXPECT_EQ(p.fields.event_type, "chat_message");
  EXPECT_EQ(p.fields.room_id, "42");
  EXPECT_EQ(p.fields.user_id, "u\"1");
  EXPECT_TRUE(p.fields.has_user_id);
  EXPECT_EQ(p.fields.event_id, "e-1");
}

TEST(EventFields, WorksWithoutSpareCapacity) {
  auto p = parse(R"({"event_type":"t","room_id":"r"})", false);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.fields.room_id, "r");
}

TEST(EventFields, NullUserIdIsAbsent) {
  auto p = parse(R"({"event_type":"t","room_id":"r","user_id":null})");
  ASSERT_TRUE(p.ok);
  EXPECT_FALSE(p.fields.has_user_id);
}

TEST(EventFields, MissingFieldsAreLeftForTheCaller) {
  auto p = parse(R"({"room_id":"r"})");
  ASSERT_TRUE(p.ok);
  EXPECT_TRUE(p.fields.event_type.empty());
}

TEST(EventFields, RefusesNonObjectsAndBadTypes) {
  for (const char* body : {"", "not json", "[1,2]", "\"s\"", "{\"event_type\":"}) {
    auto p = parse(body);
    EXPECT_FALSE(p.ok) << body;
    EXPECT_EQ(p.field, "body") << body;
  }
  auto p = parse(R"({"event_type":["a"],"room_id":"r"})");
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(p.field, "event_type");
}

// simdjson on-demand validates only what it reads: values it skipped and
// content after the object used to pass, and such bodies were stored.
TEST(EventFields, RefusesInvalidJsonAnywhereInTheBody) {
  for (const char* body : {
           R"({"event_type":"m","room_id":"c9","x":tru})",
           R"({"room_id":12abc,"event_type":"m"})",
           R"({"event_type":"m","room_id":"c9"}{"event_type":"m","room_id":"c9"})",
           R"({"event_type":"m","room_id":"c9"} x)",
           R"({"event_type":"m","room_id":"c9"}})",
           R"({"event_type":"m","room_id":"c9","x":nul})",
           R"({"event_type":"m","room_id":"c9","x":"\q"})",
           R"({"event_type":"m","room_id":"c9","x":01})",
           R"({"event_type":"m","room_id":"c9","x":1.})",
           R"({"event_type":"m","room_id":"c9","x":-})",
           R"({"event_type":"m","room_id":"c9","x":[1,]})",
           R"({"event_type":"m","room_id":"c9","x":{"a" 1}})",
           R"({"event_type":"m","room_id":"c9","x":[{"y":falsy}]})",
           R"({"event_type":"m","room_id":"c9","user_id":nul})",
           R"({"event_type":"m","room_id":"c9","user_id":tru})",
           "{\"event_type\":\"m\",\"room_id\":\"c\xff\"}",
       }) {
    auto p = parse(body);
    EXPECT_FALSE(p.ok) << body;
    EXPECT_EQ(p.field, "body") << body;
    EXPECT_EQ(p.detail, "the body is not valid JSON") << body;
    auto unpadded = parse(body, false);
    EXPECT_FALSE(unpadded.ok) << body;
  }
}

TEST(EventFields, AcceptsEveryValidJsonValueAndKeepsNumbersAsWritten) {
  auto p = parse(R"( {"event_type":"m","room_id":-4.20e+1,"big":123456789012345678901234567890,)"
                 R"("huge":1e999,"n":[true,false,null,{"a":[[]]},"\u00e9\n"],"e":{}} )"
                 "\n");
  ASSERT_TRUE(p.ok) << p.detail;
  EXPECT_EQ(p.fields.room_id, "-4.20e+1");
  // A field of the wrong type is named, even when it is valid JSON.
  auto typed = parse(R"({"event_type":"m","room_id":true})");
  EXPECT_FALSE(typed.ok);
  EXPECT_EQ(typed.field, "room_id");
}

// Validation recurses into nested values, and simdjson 3.0's on-demand API
// enforces no depth itself in a release build: a limit keeps a body of
// brackets (up to the body limit) from overflowing the stack.
TEST(EventFields, NestingIsBoundedSoBracketsCannotOverflowTheStack) {
  auto nested = [](int depth, char open, char close) {
    return R"({"event_type":"m","room_id":"r","x":)" + std::string(depth, open) +
           std::string(depth, close) + "}";
  };
  EXPECT_TRUE(parse(nested(1000, '[', ']')).ok);
  for (std::string body : {nested(1001, '[', ']'), nested(400000, '[', ']')}) {
    auto p = parse(body);
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.field, "body");
    EXPECT_EQ(p.detail, "the body nests arrays and objects deeper than 1000 levels");
  }
  std::string objects = R"({"event_type":"m","room_id":"r","user_id":)";
  for (int i = 0; i < 200000; ++i) objects += R"({"a":)";
  objects += "1" + std::string(200001, '}');
  auto p = parse(objects);
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(p.field, "body");
}

}  // namespace
}  // namespace streamshift
