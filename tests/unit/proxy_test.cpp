// Proxy reply parsing (found by tools/fuzz/fuzz_url; docs/reliability.md).
#include <gtest/gtest.h>

#include "stdlib/net/proxy.hpp"

namespace {

using mw::net::parse_connect_status;

TEST(ConnectStatus, ParsesStatusAndReason) {
  int status = 0;
  std::string reason;
  ASSERT_TRUE(parse_connect_status("HTTP/1.1 200 Connection established\r\n\r\n", status, reason));
  EXPECT_EQ(status, 200);
  EXPECT_EQ(reason, "Connection established");
  ASSERT_TRUE(parse_connect_status("HTTP/1.0 407\r\n\r\n", status, reason));
  EXPECT_EQ(status, 407);
  EXPECT_EQ(reason, "");
  ASSERT_TRUE(parse_connect_status("HTTP/1.1 403 \r\n\r\n", status, reason));
  EXPECT_EQ(status, 403);
}

// atoi() used to read the status: a huge number wrapped around (4294967496 -> 200) and the
// tunnel was taken as established; digits followed by garbage were accepted too.
TEST(ConnectStatus, RejectsMalformedStatus) {
  int status = 0;
  std::string reason;
  for (const char* head : {"HTTP/1.1 4294967496 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n",
                           "HTTP/1.1 -200 OK\r\n\r\n", "HTTP/1.1  200 OK\r\n\r\n", "HTTP/1.1 099 x\r\n\r\n",
                           "HTTP/1.1 20\r\n\r\n", "HTTP/1.1\r\n200 OK\r\n\r\n", "HTTP/1.1 2", "ICY 200 OK\r\n\r\n", ""}) {
    EXPECT_FALSE(parse_connect_status(head, status, reason)) << head;
  }
}

}  // namespace
