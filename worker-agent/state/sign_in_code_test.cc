#include "worker-agent/state/sign_in_code.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mw::centre {
namespace {

TEST(SignInCodeTest, TwelveDigitsOnlyTheSaltedSlowHashIsKept) {
  const IssuedCode a = NewSignInCode(417 + kFirstSignInNumber);
  ASSERT_EQ(a.code.size(), 12u);
  EXPECT_EQ(a.code.substr(0, 4), "1417");
  EXPECT_THAT(a.verifier, ::testing::StartsWith("$argon2id$v=19$m=19456,t=2,p=1$"));
  EXPECT_EQ(a.verifier.find(a.code.substr(4)), std::string::npos);
  auto typed = ParseSignInCode(a.code);
  ASSERT_TRUE(typed.has_value());
  EXPECT_EQ(typed->number, 1417u);
  EXPECT_TRUE(VerifySignInCode(a.verifier, typed->secret));
  EXPECT_FALSE(VerifySignInCode(a.verifier, "00000000"));
  EXPECT_FALSE(VerifySignInCode("", typed->secret));  // no such worker
  // Salted: the same secret for another worker has another verifier.
  const IssuedCode b = NewSignInCode(1418);
  EXPECT_NE(a.verifier, b.verifier);
}

TEST(SignInCodeTest, TypedCodesMayHaveSpacesOrDashesAndNothingElse) {
  EXPECT_EQ(ParseSignInCode("1417 2958 3306")->secret, "29583306");
  EXPECT_EQ(ParseSignInCode("1417-2958-3306")->number, 1417u);
  EXPECT_FALSE(ParseSignInCode("1417 2958 330").has_value());    // eleven digits
  EXPECT_FALSE(ParseSignInCode("1417 2958 33066").has_value());  // thirteen
  EXPECT_FALSE(ParseSignInCode("0417 2958 3306").has_value());   // no worker is 0417
  EXPECT_FALSE(ParseSignInCode("1417 2958 330x").has_value());
  EXPECT_FALSE(ParseSignInCode("").has_value());
}

}  // namespace
}  // namespace mw::centre
