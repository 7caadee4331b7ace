// listen_address and open_acceptor: IP literals as they are, a host name
// resolved (localhost, from the hosts file: no DNS query leaves the
// machine), IPv4 first. ConnectionShare: listeners' shares of the open-file
// limit add up within it, and are given back.
#include "api/listening.h"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>

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

// Run in a child process (a death test): it lowers the hard open-file
// limit, which it could not raise again.
void take_shares_under_a_hard_limit_of_3000() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) std::exit(3);
  limit.rlim_cur = 2000;
  limit.rlim_max = 3000;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) std::exit(3);
  ConnectionShare api(1024, 100, "API");  // 1024 + 100 own + reserve 1024: raises the soft limit to 2148
  ConnectionShare tls(1024, 50, "HTTPS");  // would need 3222: gets 3000 - 1024 - 1124 - 50 = 802
  bool ok = api.size() == 1024 && tls.size() == 802;
  {
    ConnectionShare extra(4096, 0, "public");  // nothing left: the smallest share
    ok = ok && extra.size() == 16;
  }
  tls = ConnectionShare();                        // gives its 852 back
  ConnectionShare again(4096, 10, "public");      // 3000 - 1024 - 1124 - 10
  ok = ok && again.size() == 842;
  getrlimit(RLIMIT_NOFILE, &limit);
  ok = ok && limit.rlim_cur == 3000;
  std::exit(ok ? 0 : 1);
}

TEST(ListeningDeathTest, SharesOfTheOpenFileLimitAddUpWithinIt) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_max < 3000)
    GTEST_SKIP() << "the hard open-file limit is below 3000";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(take_shares_under_a_hard_limit_of_3000(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace cairn::api
