#include "engine/common/run_ahead.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mw {
namespace {

using ::testing::ElementsAre;

// Makes 0, 1, 2, ... up to `n` (or until put says stop); counts what it made.
std::function<absl::Status(const std::function<bool(int&&)>&)> Counter(int n, int* made,
                                                                       absl::Status end = {}) {
  return [n, made, end](const std::function<bool(int&&)>& put) -> absl::Status {
    for (int i = 0; i < n; ++i) {
      ++*made;
      if (!put(int(i))) return absl::OkStatus();
    }
    return end;
  };
}

TEST(RunAheadTest, EveryItemIsTakenOnceInOrder) {
  int made = 0;
  std::vector<int> taken;
  absl::Status s = RunAhead<int>(Counter(1000, &made), [&](int& i) -> absl::StatusOr<bool> {
    taken.push_back(i);
    return true;
  });
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(taken.size(), 1000u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(taken[i], i);
  EXPECT_EQ(made, 1000);
}

TEST(RunAheadTest, NothingMadeIsNothingTaken) {
  int made = 0;
  int taken = 0;
  absl::Status s = RunAhead<int>(Counter(0, &made), [&](int&) -> absl::StatusOr<bool> {
    ++taken;
    return true;
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(taken, 0);
}

TEST(RunAheadTest, OnceTheTakerStopsTheMakerIsToldSoAndMakesAtMostWhatWaits) {
  int made = 0;
  std::vector<int> taken;
  absl::Status s = RunAhead<int>(Counter(1'000'000, &made),
                                 [&](int& i) -> absl::StatusOr<bool> {
                                   taken.push_back(i);
                                   return i < 14;  // stops after taking 15
                                 },
                                 {.batch_items = 10, .batches_ahead = 2});
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(taken.size(), 15u);
  EXPECT_EQ(taken.back(), 14);
  // At least the two batches taken; at most those, two waiting and a fifth whose handing over
  // was refused.
  EXPECT_GE(made, 20);
  EXPECT_LE(made, 50);
}

TEST(RunAheadTest, WhatFailsPastTheTakersStopIsNotItsConcern) {
  int made = 0;
  int taken = 0;
  absl::Status s = RunAhead<int>(Counter(30, &made, absl::DataLossError("row 30 is unreadable")),
                                 [&](int&) -> absl::StatusOr<bool> { return ++taken < 3; },
                                 {.batch_items = 100});
  ASSERT_TRUE(s.ok()) << s;  // the 30 made were one batch: the failure came after the stop
  EXPECT_EQ(taken, 3);
  EXPECT_EQ(made, 30);
}

TEST(RunAheadTest, AMakersExceptionIsAnInternalError) {
  std::vector<int> taken;
  absl::Status s = RunAhead<int>(
      [](const std::function<bool(int&&)>& put) -> absl::Status {
        put(1);
        throw std::runtime_error("out of memory for row 2");
      },
      [&](int& i) -> absl::StatusOr<bool> {
        taken.push_back(i);
        return true;
      });
  EXPECT_EQ(s, absl::InternalError("out of memory for row 2"));
  EXPECT_THAT(taken, ElementsAre(1));
}

TEST(RunAheadTest, ATakersExceptionStopsTheMakerAndReachesTheCaller) {
  int made = 0;
  EXPECT_THROW((void)RunAhead<int>(Counter(1'000'000, &made),
                                   [](int& i) -> absl::StatusOr<bool> {
                                     if (i == 5) throw std::runtime_error("no room for row 5");
                                     return true;
                                   },
                                   {.batch_items = 10, .batches_ahead = 2}),
               std::runtime_error);
  EXPECT_LE(made, 40);  // the batch taken, two waiting and one whose handing over was refused
}

TEST(RunAheadTest, TheTakersErrorIsReturnedAndStopsTheMaker) {
  int made = 0;
  int taken = 0;
  absl::Status s = RunAhead<int>(Counter(1'000'000, &made),
                                 [&](int& i) -> absl::StatusOr<bool> {
                                   ++taken;
                                   if (i == 3) return absl::InternalError("cannot keep item 3");
                                   return true;
                                 },
                                 {.batch_items = 4, .batches_ahead = 1});
  EXPECT_EQ(s, absl::InternalError("cannot keep item 3"));
  EXPECT_EQ(taken, 4);
  EXPECT_LE(made, 13);
}

TEST(RunAheadTest, AFailedMakerHasWhatItMadeTakenAndItsErrorReturned) {
  int made = 0;
  std::vector<int> taken;
  absl::Status s = RunAhead<int>(Counter(7, &made, absl::DataLossError("row 7 is unreadable")),
                                 [&](int& i) -> absl::StatusOr<bool> {
                                   taken.push_back(i);
                                   return true;
                                 },
                                 {.batch_items = 5});
  EXPECT_EQ(s, absl::DataLossError("row 7 is unreadable"));
  EXPECT_THAT(taken, ElementsAre(0, 1, 2, 3, 4, 5, 6));
}

TEST(RunAheadTest, ABatchIsHandedOverOnceItWeighsEnough) {
  // Each item weighs its value, ten a batch: {6, 5}, {9, 1}, {3, 2, 8}, {4, 7}. The taker stops
  // at the first item, so the maker gets no further than the third batch's handing over (by
  // count alone, the nine would be one batch, every put accepted).
  int made = 0;
  std::vector<int> taken;
  absl::Status s = RunAhead<int>(
      [&](const std::function<bool(int&&)>& put) -> absl::Status {
        for (int w : {6, 5, 9, 1, 3, 2, 8, 4, 7}) {
          ++made;
          if (!put(int(w))) return absl::OkStatus();
        }
        return absl::OkStatus();
      },
      [&](int& i) -> absl::StatusOr<bool> {
        taken.push_back(i);
        return false;
      },
      {.batch_items = 100,
       .batches_ahead = 1,
       .weigh = [](const int& i) { return static_cast<size_t>(i); },
       .batch_weight = 10});
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(taken, ElementsAre(6));
  EXPECT_GE(made, 2);
  EXPECT_LE(made, 7);
}

}  // namespace
}  // namespace mw
