// unread_bytes(): what a server's clients sent that it has not read yet, as
// the kernel counts it, without the listener's backlog.
#include "tests/support/proc_stats.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "tests/support/eventually.h"
#include "tests/support/net.h"

namespace streamshift::testing {
namespace {

using std::chrono::seconds;

TEST(UnreadBytes, CountsWhatTheServerHasNotReadYet) {
  uint16_t port = 0;
  int listener = listen_loopback(&port, 4);
  ASSERT_GE(listener, 0);
  EXPECT_EQ(unread_bytes(port), 0u);

  int client = connect_loopback(port);
  ASSERT_GE(client, 0);
  ASSERT_TRUE(send_all(client, std::string(1000, 'x')));  // not accepted yet: in the backlog
  EXPECT_TRUE(eventually([&] { return unread_bytes(port) == 1000; }, seconds(5)))
      << unread_bytes(port);
  int server = accept(listener, nullptr, nullptr);
  ASSERT_GE(server, 0);
  char buf[600];
  ASSERT_EQ(read(server, buf, sizeof buf), 600);
  EXPECT_EQ(unread_bytes(port), 400u);
  close(server);
  close(client);
  close(listener);
}

}  // namespace
}  // namespace streamshift::testing
