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

}  // namespace
}  // namespace streamshift
