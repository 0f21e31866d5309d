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

using mw::net::no_proxy_matches;

TEST(NoProxy, CidrEntries) {
  EXPECT_TRUE(no_proxy_matches("10.0.0.0/8", "10.1.2.3"));
  EXPECT_FALSE(no_proxy_matches("10.0.0.0/8", "11.1.2.3"));
  EXPECT_TRUE(no_proxy_matches("127.0.0.1", "127.0.0.1"));
  EXPECT_TRUE(no_proxy_matches("::1/128", "[::1]"));
  EXPECT_TRUE(no_proxy_matches("0.0.0.0/0", "8.8.8.8"));  // /0 written out: everything
}

// atoi() read "/abc" as /0, so such an entry matched every IPv4 address; a huge prefix wrapped.
TEST(NoProxy, MalformedPrefixMatchesNothing) {
  for (const char* entry : {"10.0.0.0/abc", "10.0.0.0/", "10.0.0.0/99999999999", "10.0.0.0/33", "10.0.0.0/-8",
                            "10.0.0.0/8x"}) {
    EXPECT_FALSE(no_proxy_matches(entry, "192.168.1.1")) << entry;
    EXPECT_FALSE(no_proxy_matches(entry, "10.0.0.1")) << entry;
  }
  EXPECT_TRUE(no_proxy_matches("10.0.0.0/abc, 192.168.0.0/16", "192.168.1.1"));  // the next entry still counts
}

}  // namespace
