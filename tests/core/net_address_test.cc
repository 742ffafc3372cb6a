#include "core/net_address.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

TEST(ParseHostPort, AcceptsV4V6AndNames) {
  auto a = parse_host_port("127.0.0.1:15001");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 15001);
  auto b = parse_host_port("[::1]:80");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_TRUE(parse_host_port("localhost:1"));
}

TEST(ParseHostPort, RejectsMissingOrBadPorts) {
  EXPECT_FALSE(parse_host_port("127.0.0.1"));
  EXPECT_FALSE(parse_host_port("127.0.0.1:"));
  EXPECT_FALSE(parse_host_port("127.0.0.1:0"));
  EXPECT_FALSE(parse_host_port("127.0.0.1:65536"));
  EXPECT_FALSE(parse_host_port(":80"));
  EXPECT_FALSE(parse_host_port("::1:80"));
}

TEST(ParseHttpUrl, HostPortAndPrefix) {
  std::string why;
  auto u = parse_http_url("http://signalr:5000/internal/", &why);
  ASSERT_TRUE(u) << why;
  EXPECT_EQ(u->host, "signalr");
  EXPECT_EQ(u->port, 5000);
  EXPECT_EQ(u->path_prefix, "/internal");
  EXPECT_EQ(u->authority, "signalr:5000");
  auto d = parse_http_url("http://signalr", &why);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->port, 80);
  EXPECT_EQ(d->path_prefix, "");
}

TEST(ParseHttpUrl, RefusesWhatTheBridgeCannotDo) {
  std::string why;
  EXPECT_FALSE(parse_http_url("https://signalr", &why));
  EXPECT_NE(why.find("TLS"), std::string::npos);
  EXPECT_FALSE(parse_http_url("http://user:pw@signalr", &why));
  EXPECT_FALSE(parse_http_url("http://:80", &why));
  EXPECT_FALSE(parse_http_url("http://h:99999", &why));
  EXPECT_FALSE(parse_http_url("http://h/x?y", &why));
}

}  // namespace
}  // namespace streamshift
