// The lenient event_type scan used with the master switch off.
#include "proxy/event_type_peek.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

TEST(EventTypePeek, ReadsAPlainStringValue) {
  EXPECT_EQ(peek_event_type(R"({"event_type":"chat_message","room_id":"r"})"), "chat_message");
  EXPECT_EQ(peek_event_type("{ \"room_id\" : 1 ,\n \"event_type\" :\t\"typing_stop\" }"),
            "typing_stop");
}

TEST(EventTypePeek, AnythingElseIsUnknownNeverAnError) {
  for (const char* body : {"", "not json", R"({"room_id":"r"})", R"({"event_type":12})",
                           R"({"event_type":""})", R"({"event_type":"a\"b"})",
                           R"({"event_type":"unterminated)", R"({"event_type" "x"})",
                           "{\"event_type\":\"a\nb\"}"}) {
    EXPECT_EQ(peek_event_type(body), "unknown") << body;
  }
}

TEST(EventTypePeek, TheFirstOccurrenceWins) {
  EXPECT_EQ(peek_event_type(R"({"event_type":"a","nested":{"event_type":"b"}})"), "a");
}

}  // namespace
}  // namespace streamshift
