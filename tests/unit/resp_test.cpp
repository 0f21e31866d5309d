// RESP2/RESP3: command encoding, the incremental scanner fed whole, split at every byte and
// one byte at a time, decoding of every reply type, and protocol errors.
#include <gtest/gtest.h>

#include "stdlib/net/redis/resp.hpp"

namespace {

using namespace mw::redis;

Scan scan_all(const std::string& s, size_t& len) {
  std::string err;
  return scan(s.data(), s.size(), len, err);
}

Value decode_all(const std::string& s) {
  Value v;
  EXPECT_EQ(decode(s.data(), s.size(), v), s.size()) << s;
  return v;
}

// Every proper prefix is incomplete; the whole is complete with its exact length (also when
// followed by more bytes: the next reply).
void expect_incremental(const std::string& reply) {
  for (size_t cut = 0; cut < reply.size(); ++cut) {
    size_t len = 0;
    EXPECT_EQ(scan_all(reply.substr(0, cut), len), Scan::incomplete) << "prefix " << cut << " of " << reply;
  }
  size_t len = 0;
  ASSERT_EQ(scan_all(reply, len), Scan::complete) << reply;
  EXPECT_EQ(len, reply.size());
  ASSERT_EQ(scan_all(reply + "+NEXT\r\n", len), Scan::complete);
  EXPECT_EQ(len, reply.size());
}

TEST(RespEncode, Command) {
  std::string out;
  append_command(out, {"SET", "key", std::string_view("a\0b", 3), ""});
  EXPECT_EQ(out, std::string("*4\r\n$3\r\nSET\r\n$3\r\nkey\r\n$3\r\na\0b\r\n$0\r\n\r\n", 37));
}

TEST(RespScan, EveryTypeSplitAtEveryByte) {
  const char* replies[] = {
      "+OK\r\n", "-ERR unknown command\r\n", ":12345\r\n", ":-7\r\n", "$5\r\nhello\r\n", "$0\r\n\r\n",
      "$-1\r\n", "*-1\r\n", "*0\r\n", "*2\r\n$1\r\na\r\n:1\r\n", "*2\r\n*1\r\n+x\r\n*0\r\n",
      "_\r\n", "#t\r\n", "#f\r\n", ",3.25\r\n", ",inf\r\n", "(3492890328409238509324850943850943825024385\r\n",
      "=15\r\ntxt:Some string\r\n", "!21\r\nSYNTAX invalid syntax\r\n", "~2\r\n+a\r\n+b\r\n",
      "%2\r\n+first\r\n:1\r\n+second\r\n$3\r\ntwo\r\n", ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
      "|1\r\n+ttl\r\n:3600\r\n$3\r\nval\r\n", "$4\r\na\r\nb\r\n",  // CRLF inside a bulk string
  };
  for (const char* r : replies) expect_incremental(r);
}

TEST(RespScan, ByteByByteStream) {
  std::string stream = "+OK\r\n*3\r\n$3\r\nfoo\r\n$-1\r\n:42\r\n%1\r\n$1\r\nk\r\n*1\r\n#t\r\n";
  std::string buf;
  std::vector<size_t> found;
  for (char ch : stream) {
    buf += ch;
    size_t len = 0;
    while (scan_all(buf, len) == Scan::complete) {
      found.push_back(len);
      buf.erase(0, len);
    }
  }
  EXPECT_TRUE(buf.empty());
  EXPECT_EQ(found, (std::vector<size_t>{5, 23, 19}));
}

TEST(RespScan, ProtocolErrors) {
  size_t len = 0;
  EXPECT_EQ(scan_all("?what\r\n", len), Scan::error);
  EXPECT_EQ(scan_all("$abc\r\n", len), Scan::error);
  EXPECT_EQ(scan_all("$-5\r\n", len), Scan::error);
  EXPECT_EQ(scan_all("*x\r\n", len), Scan::error);
  EXPECT_EQ(scan_all("$3\r\nabcde\r\n", len), Scan::error);  // no CRLF after 3 bytes
  EXPECT_EQ(scan_all(std::string("$") + std::string(70000, '1'), len), Scan::error);  // endless length line
}

TEST(RespScan, NestingLimit) {
  std::string deep, err;
  for (int i = 0; i < kMaxDepth; ++i) deep += "*1\r\n";
  size_t len = 0;
  EXPECT_EQ(scan_all(deep + ":1\r\n", len), Scan::complete);
  EXPECT_EQ(scan(("*1\r\n" + deep + ":1\r\n").data(), deep.size() + 9, len, err), Scan::error);
  EXPECT_NE(err.find("nested"), std::string::npos);
  // siblings do not add up to depth
  std::string wide = "*200\r\n";
  for (int i = 0; i < 200; ++i) wide += "*1\r\n*0\r\n";
  ASSERT_EQ(scan_all(wide, len), Scan::complete);
  EXPECT_EQ(len, wide.size());
}

// Random nested replies: the scanner agrees with the decoder on every one, and each proper
// prefix is incomplete.
std::string random_reply(unsigned& seed, int depth) {
  auto rnd = [&seed](unsigned m) { seed = seed * 1103515245u + 12345u; return (seed >> 16) % m; };
  unsigned kind = depth > 4 ? rnd(6) : rnd(10);
  switch (kind) {
    case 0: return "+simple\r\n";
    case 1: return ":" + std::to_string(static_cast<int>(rnd(100000)) - 50000) + "\r\n";
    case 2: { std::string b(rnd(40), 'x'); if (!b.empty()) b[0] = '\r'; return "$" + std::to_string(b.size()) + "\r\n" + b + "\r\n"; }
    case 3: return "_\r\n";
    case 4: return ",2.5\r\n";
    case 5: return "-ERR x\r\n";
    case 6: case 7: {
      unsigned k = rnd(5);
      std::string s = (kind == 6 ? "*" : "~") + std::to_string(k) + "\r\n";
      for (unsigned i = 0; i < k; ++i) s += random_reply(seed, depth + 1);
      return s;
    }
    case 8: {
      unsigned k = rnd(4);
      std::string s = "%" + std::to_string(k) + "\r\n";
      for (unsigned i = 0; i < 2 * k; ++i) s += random_reply(seed, depth + 1);
      return s;
    }
    default:
      return "|1\r\n+a\r\n:1\r\n" + random_reply(seed, depth + 1);
  }
}

TEST(RespScan, RandomRepliesAgreeWithDecoder) {
  unsigned seed = 12345;
  for (int i = 0; i < 2000; ++i) {
    std::string r = random_reply(seed, 0);
    size_t len = 0;
    ASSERT_EQ(scan_all(r, len), Scan::complete) << r;
    ASSERT_EQ(len, r.size());
    Value v;
    ASSERT_EQ(decode(r.data(), r.size(), v), r.size()) << r;
    for (size_t cut = 0; cut < r.size(); cut += 1 + r.size() / 16)
      ASSERT_EQ(scan_all(r.substr(0, cut), len), Scan::incomplete) << r << " cut " << cut;
  }
}

TEST(RespDecode, Types) {
  EXPECT_EQ(decode_all("+OK\r\n").str, "OK");
  auto e = decode_all("-WRONGTYPE Operation against a key\r\n");
  EXPECT_EQ(e.type, '-');
  EXPECT_EQ(error_code(e.str), "WRONGTYPE");
  EXPECT_EQ(error_code("something lowercase"), "ERR");
  EXPECT_EQ(error_code("NOAUTH"), "NOAUTH");
  EXPECT_EQ(decode_all(":-42\r\n").integer, -42);
  EXPECT_EQ(decode_all("$-1\r\n").type, '_');
  EXPECT_EQ(decode_all("*-1\r\n").type, '_');
  EXPECT_TRUE(decode_all("#t\r\n").boolean);
  EXPECT_DOUBLE_EQ(decode_all(",1.5\r\n").number, 1.5);
  EXPECT_EQ(decode_all("=15\r\ntxt:Some string\r\n").str, "Some string");
  auto blob = decode_all("!21\r\nSYNTAX invalid syntax\r\n");
  EXPECT_EQ(blob.type, '-');
  EXPECT_EQ(blob.str, "SYNTAX invalid syntax");
  auto m = decode_all("%2\r\n+a\r\n:1\r\n+b\r\n*2\r\n:2\r\n:3\r\n");
  ASSERT_EQ(m.elems.size(), 4u);
  EXPECT_EQ(m.elems[0].str, "a");
  EXPECT_EQ(m.elems[3].elems[1].integer, 3);
  auto attr = decode_all("|1\r\n+ttl\r\n:3600\r\n$3\r\nval\r\n");
  EXPECT_EQ(attr.type, '$');
  EXPECT_EQ(attr.str, "val");
  auto nested = decode_all("*2\r\n*1\r\n$1\r\nx\r\n$-1\r\n");
  EXPECT_EQ(nested.elems[0].elems[0].str, "x");
  EXPECT_EQ(nested.elems[1].type, '_');
}

TEST(RespScan, LargeArrayInChunks) {
  std::string reply = "*1000\r\n";
  for (int i = 0; i < 1000; ++i) reply += "$4\r\n" + std::to_string(1000 + i) + "\r\n";
  size_t len = 0;
  for (size_t cut = 0; cut < reply.size(); cut += 97) EXPECT_EQ(scan_all(reply.substr(0, cut), len), Scan::incomplete);
  ASSERT_EQ(scan_all(reply, len), Scan::complete);
  auto v = decode_all(reply);
  ASSERT_EQ(v.elems.size(), 1000u);
  EXPECT_EQ(v.elems[999].str, "1999");
}

}  // namespace
