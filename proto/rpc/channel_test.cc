// Which targets may be spoken to in plaintext: loopback address literals and localhost only.
#include "proto/rpc/channel.h"

#include "gtest/gtest.h"

namespace mw::rpc {
namespace {

TEST(IsLoopbackTest, LoopbackAddressesAndLocalhostOnly) {
  EXPECT_TRUE(IsLoopback("127.0.0.1:7070"));
  EXPECT_TRUE(IsLoopback("127.1.2.3:0"));
  EXPECT_TRUE(IsLoopback("[::1]:7070"));
  EXPECT_TRUE(IsLoopback("localhost:7070"));
  EXPECT_FALSE(IsLoopback("127.attacker.example:7070"));
  EXPECT_FALSE(IsLoopback("127.0.0.1.nip.io:7070"));
  EXPECT_FALSE(IsLoopback("10.0.0.5:7070"));
  EXPECT_FALSE(IsLoopback("[::ffff:10.0.0.5]:7070"));
  EXPECT_FALSE(IsLoopback("0.0.0.0:7070"));
  EXPECT_FALSE(IsLoopback("dispatcher.example.org:443"));
}

}  // namespace
}  // namespace mw::rpc
