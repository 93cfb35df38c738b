#include "worker-agent/web/guard.h"

#include "gtest/gtest.h"

namespace mw::agent::web {
namespace {

httplib::Request Post(httplib::Headers headers) {
  httplib::Request req;
  req.method = "POST";
  req.headers = std::move(headers);
  return req;
}

TEST(CrossSiteTest, OnlyThisPageMayPostHere) {
  EXPECT_EQ(CrossSiteReason(Post({{"Host", "10.0.0.5:8080"}})), "");
  EXPECT_EQ(CrossSiteReason(Post({{"Host", "10.0.0.5:8080"}, {"Origin", "http://10.0.0.5:8080"}})),
            "");
  EXPECT_EQ(CrossSiteReason(Post({{"Host", "10.0.0.5:8080"}, {"Sec-Fetch-Site", "same-origin"}})),
            "");
  EXPECT_EQ(CrossSiteReason(Post({{"Host", "10.0.0.5:8080"}, {"Origin", "http://evil.example"}})),
            "Origin http://evil.example is not this page (10.0.0.5:8080)");
  EXPECT_EQ(CrossSiteReason(Post({{"Host", "10.0.0.5:8080"}, {"Origin", "null"}})),
            "Origin null is not this page (10.0.0.5:8080)");
  EXPECT_EQ(CrossSiteReason(Post({{"Host", "10.0.0.5:8080"}, {"Origin", "http://10.0.0.5:9090"}})),
            "Origin http://10.0.0.5:9090 is not this page (10.0.0.5:8080)");
  EXPECT_EQ(CrossSiteReason(Post({{"Host", "10.0.0.5:8080"}, {"Sec-Fetch-Site", "cross-site"}})),
            "Sec-Fetch-Site is cross-site");
  EXPECT_EQ(CrossSiteReason(Post({{"Host", "10.0.0.5:8080"}, {"Sec-Fetch-Site", "same-site"}})),
            "Sec-Fetch-Site is same-site");
}

TEST(SignInThrottleTest, FiveWrongCodesFromOneAddressWaitForTheWindow) {
  SignInThrottle t({.per_address = 5, .overall = 50, .window_ms = 900'000});
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(t.WaitMs("10.0.0.9", 1000 + i), 0) << i;
    t.Failed("10.0.0.9", 1000 + i);
  }
  EXPECT_EQ(t.WaitMs("10.0.0.9", 2000), 899'000);  // the window began at the first failure
  EXPECT_EQ(t.WaitMs("10.0.0.7", 2000), 0);        // another device is not held up
  EXPECT_EQ(t.WaitMs("10.0.0.9", 900'999), 1);
  EXPECT_EQ(t.WaitMs("10.0.0.9", 901'000), 0);  // a new window
  t.Failed("10.0.0.9", 901'000);
  EXPECT_EQ(t.WaitMs("10.0.0.9", 901'001), 0);
}

TEST(SignInThrottleTest, GuessesSpreadOverManyAddressesHitTheOverallLimit) {
  SignInThrottle t({.per_address = 5, .overall = 50, .window_ms = 900'000});
  for (int i = 0; i < 50; ++i) t.Failed("10.0.1." + std::to_string(i), 0);
  EXPECT_EQ(t.WaitMs("10.0.2.1", 60'000), 840'000);  // a fresh address waits too
  EXPECT_EQ(t.WaitMs("10.0.2.1", 900'000), 0);
}

}  // namespace
}  // namespace mw::agent::web
