// The shared listener (stdlib/net/listener.hpp), driven from C++ on a real loopback socket:
// max_connections holds further connections in the kernel queue until a slot is released;
// the owner's demand decides when to accept; close stops every callback.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/steady_timer.hpp>
#include <vector>

#include "runtime/engine.hpp"
#include "stdlib/net/listener.hpp"

namespace {

namespace asio = boost::asio;
using mw::net::Accepted;
using mw::net::Listener;
using mw::net::ListenConfig;
using mw::net::ListenError;
using tcp = asio::ip::tcp;

// Runs the loop for a while (nothing else keeps it busy in these tests but the sockets).
void run_for(mw::Engine& e, int ms) {
  asio::steady_timer t(e.io(), std::chrono::milliseconds(ms));
  t.async_wait([&](const boost::system::error_code&) { e.io().stop(); });
  e.io().restart();
  e.io().run();
}

TEST(Listener, BindsAndReportsItsEndpoint) {
  mw::Engine e;
  ListenError err;
  auto l = Listener::open_at(e, ListenConfig{}, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), err);
  ASSERT_TRUE(l) << err.message;
  EXPECT_NE(l->local().port(), 0);
  EXPECT_EQ(l->local_addr(), "127.0.0.1:" + std::to_string(l->local().port()));
  // The same port again without reuseport: EADDRINUSE.
  auto busy = Listener::open_at(e, ListenConfig{}, l->local(), err);
  EXPECT_FALSE(busy);
  EXPECT_EQ(err.code, "EADDRINUSE");
  l->close();
}

TEST(Listener, MaxConnectionsWaitsForAReleasedSlot) {
  mw::Engine e;
  ListenConfig cfg;
  cfg.max_connections = 1;
  ListenError err;
  auto l = Listener::open_at(e, cfg, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), err);
  ASSERT_TRUE(l) << err.message;
  std::vector<Accepted> got;
  l->on_accept([&](Accepted&& a) { got.push_back(std::move(a)); });
  l->pump();
  std::vector<tcp::socket> clients;
  for (int i = 0; i < 3; ++i) {
    clients.emplace_back(e.io());
    clients.back().connect(l->local());
  }
  run_for(e, 100);
  ASSERT_EQ(got.size(), 1u);  // the others wait in the kernel's queue
  EXPECT_TRUE(got[0].plain.has_value());
  EXPECT_EQ(l->open_connections(), 1u);
  got[0].slot.reset();  // the connection is done with: the next one is accepted
  run_for(e, 100);
  EXPECT_EQ(got.size(), 2u);
  l->close();
}

TEST(Listener, AcceptsOnlyOnDemandAndNeverAfterClose) {
  mw::Engine e;
  ListenError err;
  auto l = Listener::open_at(e, ListenConfig{}, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), err);
  ASSERT_TRUE(l) << err.message;
  bool wanted = false;
  int accepted = 0;
  l->on_demand([&](size_t) { return wanted; });
  l->on_accept([&](Accepted&&) { ++accepted; });
  l->pump();
  tcp::socket c1(e.io());
  c1.connect(l->local());
  run_for(e, 50);
  EXPECT_EQ(accepted, 0);  // no demand
  wanted = true;
  l->pump();
  run_for(e, 50);
  EXPECT_EQ(accepted, 1);
  l->close();
  tcp::socket c2(e.io());
  boost::system::error_code ec;
  c2.connect(l->local(), ec);  // refused: the socket is closed
  run_for(e, 50);
  EXPECT_EQ(accepted, 1);
  EXPECT_TRUE(l->closed());
}

}  // namespace
