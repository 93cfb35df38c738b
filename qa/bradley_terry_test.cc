#include "qa/bradley_terry.h"

#include <cmath>
#include <cstdint>

#include "gtest/gtest.h"

namespace mw::qa {
namespace {

// Five models of strengths 16, 8, 4, 2, 1, every pair compared four times by each of eight
// workers: six who say what the model makes likely (a draw from it), and `contrary` who say the
// opposite of what the others would. Deterministic: a linear congruential sequence.
std::vector<PairVote> Duel(int contrary) {
  const std::vector<std::pair<std::string, double>> models = {
      {"m1", 16}, {"m2", 8}, {"m3", 4}, {"m4", 2}, {"m5", 1}};
  uint64_t seed = 12345;
  auto uniform = [&] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(seed >> 11) / static_cast<double>(uint64_t{1} << 53);
  };
  std::vector<PairVote> votes;
  for (int w = 0; w < 6 + contrary; ++w) {
    for (size_t i = 0; i < models.size(); ++i) {
      for (size_t j = i + 1; j < models.size(); ++j) {
        for (int k = 0; k < 4; ++k) {
          const double p = models[i].second / (models[i].second + models[j].second);
          bool i_won = uniform() < p;
          if (w >= 6) i_won = !i_won;
          // Half the time the pair is shown the other way round.
          if (k % 2 == 0) {
            votes.push_back({"w" + std::to_string(w), models[i].first, models[j].first, i_won});
          } else {
            votes.push_back({"w" + std::to_string(w), models[j].first, models[i].first, !i_won});
          }
        }
      }
    }
  }
  return votes;
}

std::vector<std::string> Order(const BtResult& r) {
  std::vector<std::string> out;
  for (const auto& [item, strength] : r.items) out.push_back(item);
  return out;
}

TEST(BradleyTerryTest, HonestComparisonsGiveTheModelsOrderAndTheirRatios) {
  const BtResult r = BradleyTerry(Duel(0));
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(Order(r), (std::vector<std::string>{"m1", "m2", "m3", "m4", "m5"}));
  // Strengths 16:1 apart, recovered within a factor of two from 240 comparisons.
  const double spread = r.items.front().second / r.items.back().second;
  EXPECT_GT(spread, 8);
  EXPECT_LT(spread, 32);
  for (const auto& [worker, eta] : r.reliability) EXPECT_GT(eta, 0.55) << worker;
}

TEST(BradleyTerryTest, ContraryWorkersAreFoundAndTheirComparisonsCountAgainstWhatTheySay) {
  const std::vector<PairVote> votes = Duel(3);  // three of nine say the opposite
  const BtResult noisy = BradleyTerry(votes);
  const BtResult plain = BradleyTerry(votes, {.worker_noise = false});
  EXPECT_EQ(Order(noisy), (std::vector<std::string>{"m1", "m2", "m3", "m4", "m5"}));
  // Below a coin's one half: each of the three contrary, none of the six.
  for (const char* w : {"w6", "w7", "w8"}) EXPECT_LT(noisy.reliability.at(w), 0.45) << w;
  for (const char* w : {"w0", "w1", "w2", "w3", "w4", "w5"}) {
    EXPECT_GT(noisy.reliability.at(w), 0.55) << w;
  }
  // Taken at their word, the contrary third squeeze the strengths together.
  const double noisy_spread = noisy.items.front().second / noisy.items.back().second;
  const double plain_spread = plain.items.front().second / plain.items.back().second;
  EXPECT_GT(noisy_spread, 2 * plain_spread);
  EXPECT_EQ(plain.reliability.at("w6"), 1.0);
}

TEST(BradleyTerryTest, AnItemThatNeverLostStaysFinite) {
  const BtResult r = BradleyTerry({{"w1", "a", "b", true}, {"w1", "a", "c", true}});
  ASSERT_EQ(r.items.size(), 3u);
  EXPECT_EQ(r.items[0].first, "a");
  EXPECT_TRUE(std::isfinite(r.items[0].second));
  EXPECT_TRUE(BradleyTerry({}).items.empty());
}

}  // namespace
}  // namespace mw::qa
