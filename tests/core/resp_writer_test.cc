// RespWriter: the RESP bytes of a loop turn's commands, borrowed arguments
// referenced rather than copied.
#include "core/resp_writer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace streamshift {
namespace {

std::string joined(RespWriter& w) {
  std::string out;
  for (const uv_buf_t& b : w.buffers()) out.append(b.base, b.len);
  return out;
}

TEST(RespWriter, EncodesCommandsAsRespArraysOfBulkStrings) {
  RespWriter w;
  const char* argv[] = {"SET", "key", ""};
  size_t lens[] = {3, 3, 0};
  w.append(3, argv, lens);
  const char* ping[] = {"PING"};
  size_t ping_len[] = {4};
  w.append(1, ping, ping_len);
  std::string expected = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$0\r\n\r\n*1\r\n$4\r\nPING\r\n";
  EXPECT_EQ(joined(w), expected);
  EXPECT_EQ(w.size(), expected.size());
  EXPECT_EQ(w.buffers().size(), 1u) << "copied bytes make one buffer";
  EXPECT_EQ(w.borrowed_bytes(), 0u);
}

TEST(RespWriter, BinaryArgumentsAreSentAsTheyAre) {
  RespWriter w;
  std::string binary("a\r\n\0b", 5);
  const char* argv[] = {binary.data()};
  size_t lens[] = {binary.size()};
  w.append(1, argv, lens);
  EXPECT_EQ(joined(w), std::string("*1\r\n$5\r\na\r\n\0b\r\n", 15));
}

TEST(RespWriter, ABorrowedArgumentIsReferencedNotCopied) {
  RespWriter w;
  std::string body(300, 'x');
  const char* argv[] = {"XADD", "events:chat", "*", "body", body.data()};
  size_t lens[] = {4, 11, 1, 4, body.size()};
  w.append(5, argv, lens, uint64_t{1} << 4);
  const std::vector<uv_buf_t>& bufs = w.buffers();
  ASSERT_EQ(bufs.size(), 3u) << "framing before, the body, framing after";
  EXPECT_EQ(bufs[1].base, body.data());
  EXPECT_EQ(bufs[1].len, body.size());
  EXPECT_EQ(w.borrowed_bytes(), body.size());
  EXPECT_EQ(joined(w),
            "*5\r\n$4\r\nXADD\r\n$11\r\nevents:chat\r\n$1\r\n*\r\n$4\r\nbody\r\n$300\r\n" + body +
                "\r\n");
}

TEST(RespWriter, ManyCommandsKeepTheirOrderAcrossArenaGrowth) {
  RespWriter w;
  std::vector<std::string> bodies;
  for (int i = 0; i < 200; ++i)
    bodies.push_back(std::string(100 + i, static_cast<char>('a' + i % 26)));
  std::string expected;
  for (const std::string& b : bodies) {
    std::string key(50, 'k');
    const char* argv[] = {"SET", key.c_str(), b.data()};
    size_t lens[] = {3, key.size(), b.size()};
    w.append(3, argv, lens, uint64_t{1} << 2);
    expected += "*3\r\n$3\r\nSET\r\n$50\r\n" + key + "\r\n$" + std::to_string(b.size()) + "\r\n" +
                b + "\r\n";
  }
  EXPECT_EQ(joined(w), expected);
  EXPECT_EQ(w.buffers().size(), 2 * bodies.size() + 1);
}

TEST(RespWriter, ClearForgetsEverything) {
  RespWriter w;
  const char* argv[] = {"PING"};
  size_t lens[] = {4};
  w.append(1, argv, lens, 1);
  w.clear();
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.size(), 0u);
  EXPECT_EQ(w.borrowed_bytes(), 0u);
  EXPECT_TRUE(w.buffers().empty());
  w.append(1, argv, lens);
  EXPECT_EQ(joined(w), "*1\r\n$4\r\nPING\r\n");
}

}  // namespace
}  // namespace streamshift
