// The cookie jar's RFC 6265 pieces that Lua tests reach only through a server: date parsing,
// domain and path matching, Set-Cookie edge cases, limits.
#include <gtest/gtest.h>

#include "stdlib/net/cookies.hpp"

namespace {

using namespace mw::net;

TEST(CookieDate, FormatsBrowsersAccept) {
  EXPECT_EQ(parse_cookie_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);   // RFC 1123
  EXPECT_EQ(parse_cookie_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);  // RFC 850
  EXPECT_EQ(parse_cookie_date("Sun Nov  6 08:49:37 1994"), 784111777);        // asctime
  EXPECT_EQ(parse_cookie_date("06 nov 1994 8:49:37"), 784111777);
  EXPECT_EQ(parse_cookie_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(parse_cookie_date("Fri, 01-Jan-38 00:00:00 GMT"), 2145916800);  // 38 -> 2038
  EXPECT_EQ(parse_cookie_date("Tue, 29 Feb 2028 00:00:00 GMT"), 1835395200);
}

TEST(CookieDate, Rejects) {
  EXPECT_FALSE(parse_cookie_date(""));
  EXPECT_FALSE(parse_cookie_date("someday"));
  EXPECT_FALSE(parse_cookie_date("Sun, 06 Nov 1994"));             // no time
  EXPECT_FALSE(parse_cookie_date("Sun, 32 Nov 1994 08:49:37"));    // day
  EXPECT_FALSE(parse_cookie_date("Sun, 30 Feb 1994 08:49:37"));    // no such date
  EXPECT_FALSE(parse_cookie_date("Sun, 06 Nov 1600 08:49:37"));    // before 1601
  EXPECT_FALSE(parse_cookie_date("Sun, 06 Nov 1994 24:00:00"));    // hour
  EXPECT_FALSE(parse_cookie_date("Sun, 06 Xyz 1994 08:49:37"));    // month
}

TEST(CookieMatch, DomainAndPath) {
  EXPECT_TRUE(domain_match("example.com", "example.com"));
  EXPECT_TRUE(domain_match("a.example.com", "example.com"));
  EXPECT_TRUE(domain_match("A.Example.COM", "example.com"));
  EXPECT_FALSE(domain_match("notexample.com", "example.com"));
  EXPECT_FALSE(domain_match("example.com", "a.example.com"));
  EXPECT_FALSE(domain_match("1.2.3.4", "2.3.4"));  // IP addresses match only themselves
  EXPECT_TRUE(domain_match("1.2.3.4", "1.2.3.4"));
  EXPECT_EQ(default_cookie_path(""), "/");
  EXPECT_EQ(default_cookie_path("/"), "/");
  EXPECT_EQ(default_cookie_path("/a"), "/");
  EXPECT_EQ(default_cookie_path("/a/b/c"), "/a/b");
  EXPECT_TRUE(path_match("/a/b", "/a/b"));
  EXPECT_TRUE(path_match("/a/b/c", "/a/b"));
  EXPECT_TRUE(path_match("/a/b/c", "/a/"));
  EXPECT_FALSE(path_match("/a/bc", "/a/b"));
  EXPECT_FALSE(path_match("/a", "/a/b"));
}

TEST(CookieJar, SetCookieParsing) {
  CookieJar jar;
  CookieUrl u{"http", "www.example.com", "/dir/page"};
  std::string why;
  EXPECT_FALSE(jar.set_from_header(u, "novalue", 1000, &why));
  EXPECT_FALSE(jar.set_from_header(u, "=v", 1000, &why));
  EXPECT_FALSE(jar.set_from_header(u, std::string("a=b\x01"), 1000, &why));
  EXPECT_FALSE(jar.set_from_header(u, "a=" + std::string(5000, 'x'), 1000, &why));
  EXPECT_TRUE(jar.set_from_header(u, "  sp = v w ;  Path=/ ; Max-Age=abc; Unknown=1", 1000));
  auto all = jar.all(1000);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]->name, "sp");
  EXPECT_EQ(all[0]->value, "v w");
  EXPECT_EQ(all[0]->path, "/");
  EXPECT_FALSE(all[0]->expires);  // an invalid Max-Age is ignored
  // the last attribute of a kind wins; Max-Age over Expires in either order
  EXPECT_TRUE(jar.set_from_header(u, "m=1; Max-Age=10; Expires=Thu, 01 Jan 2099 00:00:00 GMT; Max-Age=20", 1000));
  EXPECT_EQ(*jar.matching(u, 1000)[0]->expires, 1020);
  EXPECT_EQ(jar.header_for(u, 1000), "m=1; sp=v w");  // m's default path /dir is longer
  EXPECT_EQ(jar.header_for(u, 1021), "sp=v w");        // m expired
}

TEST(CookieJar, PerDomainLimitEvictsOldest) {
  CookieJar jar;
  CookieUrl u{"http", "example.com", "/"};
  for (size_t i = 0; i < kMaxCookiesPerDomain + 5; ++i)
    ASSERT_TRUE(jar.set_from_header(u, "c" + std::to_string(i) + "=1", 1000));
  EXPECT_EQ(jar.size(), kMaxCookiesPerDomain);
  EXPECT_EQ(jar.all(1000)[0]->name, "c5");
}

}  // namespace
