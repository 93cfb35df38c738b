#include "engine/common/lock_checks.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "absl/synchronization/mutex.h"

namespace mw {
namespace {

// Takes two locks in one order, then in the other: a deadlock two threads could reach.
void TakeInBothOrders() {
  absl::Mutex a, b;
  {
    absl::MutexLock la(&a);
    absl::MutexLock lb(&b);
  }
  {
    absl::MutexLock lb(&b);
    absl::MutexLock la(&a);
  }
}

// Why the function exists: in a program that has not called it (this test), Abseil as Debian
// builds it (without NDEBUG) checks every lock order and aborts on a cycle. Against an Abseil
// built with NDEBUG this test fails, and the function has no more reason to be.
TEST(LockChecksDeathTest, AnInvertedLockOrderAbortsByDefault) {
  EXPECT_DEATH(TakeInBothOrders(), "Potential Mutex deadlock");
}

TEST(LockChecksDeathTest, AfterSkipLockOrderChecksTheSameOrderRunsOn) {
  EXPECT_EXIT(
      {
        unsetenv("MW_LOCK_ORDER_CHECKS");  // as a program started by hand has it
        SkipLockOrderChecks();
        TakeInBothOrders();
        std::exit(7);
      },
      ::testing::ExitedWithCode(7), "");
}

// A test that starts the programs keeps the check in them (testing/subprocess.cc).
TEST(LockChecksDeathTest, WithMwLockOrderChecksSetTheCheckStaysOn) {
  EXPECT_DEATH(
      {
        setenv("MW_LOCK_ORDER_CHECKS", "1", 1);
        SkipLockOrderChecks();
        TakeInBothOrders();
      },
      "Potential Mutex deadlock");
}

}  // namespace
}  // namespace mw
