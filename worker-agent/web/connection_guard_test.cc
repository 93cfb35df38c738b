#include "worker-agent/web/connection_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "gtest/gtest.h"

namespace mw::agent::web {
namespace {

TEST(ReadBudgetTest, ARequestEarnsTimeOnlyWithTheBytesThatCome) {
  const ReadBudget budget(
      {.idle_ms = 5'000, .first_ms = 20'000, .min_bytes_per_second = 500, .max_ms = 300'000});
  EXPECT_EQ(budget.AllowedMs(0), 5'000);  // a connection that sends nothing goes soon
  EXPECT_EQ(budget.AllowedMs(1), 20'000);
  EXPECT_EQ(budget.AllowedMs(499), 20'000);  // a header line every few seconds earns nothing
  EXPECT_EQ(budget.AllowedMs(500), 21'000);
  EXPECT_EQ(budget.AllowedMs(50'000), 120'000);   // a long answer on a slow phone goes on
  EXPECT_EQ(budget.AllowedMs(262'144), 300'000);  // never more than max_ms in all
  EXPECT_EQ(budget.AllowedMs(UINT64_MAX), 300'000);
}

TEST(ConnectionCounterTest, EachAddressHoldsItsShareAndGivesItBack) {
  ConnectionCounter counter(2, 100);
  EXPECT_TRUE(counter.Acquire("10.0.0.7"));
  EXPECT_TRUE(counter.Acquire("10.0.0.7"));
  EXPECT_FALSE(counter.Acquire("10.0.0.7"));  // took nothing
  EXPECT_TRUE(counter.Acquire("10.0.0.8"));
  EXPECT_EQ(counter.Held(), 3u);
  counter.Release("10.0.0.7");
  EXPECT_EQ(counter.Held(), 2u);
  EXPECT_TRUE(counter.Acquire("10.0.0.7"));
  counter.Release("10.0.0.9");  // never held: nothing changes
  EXPECT_EQ(counter.Held(), 3u);
}

TEST(ConnectionCounterTest, NoMoreThanTheTotalAreHeld) {
  ConnectionCounter counter(2, 3);
  EXPECT_TRUE(counter.Acquire("a"));
  EXPECT_TRUE(counter.Acquire("b"));
  EXPECT_TRUE(counter.Acquire("c"));
  EXPECT_FALSE(counter.Acquire("d"));
  counter.Release("a");
  EXPECT_TRUE(counter.Acquire("d"));
}

sockaddr_storage Peer(int family, const char* text) {
  sockaddr_storage s{};
  s.ss_family = static_cast<sa_family_t>(family);
  if (family == AF_INET) {
    inet_pton(AF_INET, text, &reinterpret_cast<sockaddr_in*>(&s)->sin_addr);
  } else {
    inet_pton(AF_INET6, text, &reinterpret_cast<sockaddr_in6*>(&s)->sin6_addr);
  }
  return s;
}

TEST(DeviceOfTest, ADeviceIsItsIpv4AddressOrItsIpv6Network) {
  EXPECT_EQ(DeviceOf(Peer(AF_INET, "192.168.1.23")), "192.168.1.23");
  EXPECT_EQ(DeviceOf(Peer(AF_INET6, "::ffff:192.168.1.23")), "192.168.1.23");
  // Temporary addresses of one phone are one device.
  EXPECT_EQ(DeviceOf(Peer(AF_INET6, "2001:db8:1:2:aaaa:bbbb:cccc:dddd")), "2001:db8:1:2::/64");
  EXPECT_EQ(DeviceOf(Peer(AF_INET6, "2001:db8:1:2:1234::1")), "2001:db8:1:2::/64");
  EXPECT_EQ(DeviceOf(sockaddr_storage{}), "");
}

}  // namespace
}  // namespace mw::agent::web
