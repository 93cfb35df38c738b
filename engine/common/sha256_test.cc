#include "engine/common/sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace mw {
namespace {

TEST(Sha256Test, DigestsAreTheStandardOnes) {
  // FIPS 180-2, appendix B.1, and the digest of nothing.
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // RFC 4231, test case 2.
  EXPECT_EQ(ToHex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Sha256Test, TwoPartsHashAsTheirConcatenationAndAsAHasherFedInPieces) {
  const std::string a(1000, 'a'), b = "the rest";
  const std::string whole = Sha256(a + b);
  EXPECT_EQ(Sha256(a, b), whole);
  Sha256Hasher hasher;
  hasher.Update(a.substr(0, 7));
  hasher.Update(a.substr(7));
  hasher.Update(b);
  EXPECT_EQ(hasher.Finish(), whole);
  // The context a thread reuses starts afresh each time.
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, ThreadsHashingAtOnceEachGetTheirOwnDigests) {
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &got] {
      std::string last;
      for (int i = 0; i < 2000; ++i) last = Sha256(std::string(t + 1, 'x'), std::to_string(i));
      got[t] = last;
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(got[t], Sha256(std::string(t + 1, 'x') + "1999")) << t;
}

}  // namespace
}  // namespace mw
