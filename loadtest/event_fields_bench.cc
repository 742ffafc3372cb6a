// Micro-benchmark of read_event_fields: nanoseconds per event body of 200
// and 1000 bytes, as the ingress hands them over (with spare capacity for
// simdjson's padding), with a plain ASCII text and with a text full of
// \u escapes (what Python's json.dumps and .NET's System.Text.Json write for
// non-ASCII by default). Not part of the suite; run by hand:
//   build/bin/event_fields_bench [rounds]
// Prints the best and the median round of each body.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/event_fields.h"

namespace {

// A chat event of exactly `size` bytes: the four fields, metadata, a text.
std::string event_body(size_t size, std::string_view text_unit) {
  std::string head =
      R"({"event_type":"chat_message","room_id":"room-4711","user_id":"user-42",)"
      R"("event_id":"0b9c7a1e-3f7d-4c55-9a0e-1f2d3c4b5a69","meta":{"lang":"en","n":[1,2.5,-3e2],)"
      R"("ok":true,"none":null},"text":")";
  std::string tail = "\"}";
  std::string text;
  while (head.size() + text.size() + text_unit.size() + tail.size() <= size) text += text_unit;
  text.append(size - head.size() - text.size() - tail.size(), 'x');
  return head + text + tail;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 15;
  constexpr int kIterations = 100000;
  struct Text {
    const char* name;
    std::string_view unit;
  };
  for (Text text :
       {Text{"ascii", "lorem ipsum dolor "}, Text{"escaped", "caf\\u00e9 na\\u00efve "}}) {
    for (size_t size : {200u, 1000u}) {
      std::string body = event_body(size, text.unit);
      body.reserve(body.size() + 64);  // as the ingress reads bodies
      streamshift::EventFields fields;
      std::string field, detail;
      if (!streamshift::read_event_fields(body, &fields, &field, &detail)) {
        std::fprintf(stderr, "bench body refused: %s\n%s\n", detail.c_str(), body.c_str());
        return 1;
      }
      std::vector<double> ns;
      for (int r = 0; r < rounds; ++r) {
        auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < kIterations; ++i) {
          streamshift::EventFields f;
          if (!streamshift::read_event_fields(body, &f, &field, &detail)) return 1;
        }
        auto elapsed = std::chrono::steady_clock::now() - start;
        ns.push_back(std::chrono::duration<double, std::nano>(elapsed).count() / kIterations);
      }
      std::sort(ns.begin(), ns.end());
      std::printf(
          "%4zu-byte body, %-7s text: best %.0f ns, median %.0f ns per event (%d rounds of %d)\n",
          body.size(), text.name, ns.front(), ns[ns.size() / 2], rounds, kIterations);
    }
  }
  return 0;
}
