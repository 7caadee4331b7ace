// listen_address and open_acceptor: IP literals as they are, a host name
// resolved (localhost, from the hosts file: no DNS query leaves the
// machine), IPv4 first.
#include "api/listening.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

namespace cairn::api {
namespace {

TEST(Listening, IpLiteralsStayAndLocalhostResolves) {
  EXPECT_EQ(listen_address("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(listen_address("::1"), "::1");
  EXPECT_EQ(listen_address("localhost"), "127.0.0.1");
}

TEST(Listening, AnAcceptorOnLocalhostGetsAFreePort) {
  boost::asio::io_context io;
  auto acceptor = open_acceptor(io, "localhost", 0);
  EXPECT_TRUE(acceptor->is_open());
  EXPECT_GT(acceptor->local_endpoint().port(), 0);
  EXPECT_EQ(acceptor->local_endpoint().address().to_string(), "127.0.0.1");
}

}  // namespace
}  // namespace cairn::api
