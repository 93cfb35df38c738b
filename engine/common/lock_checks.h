// Lock-order checks. Debian builds Abseil without NDEBUG, so in every program that links it each
// absl::Mutex::Lock records the lock in one process-wide graph of lock orders, under a global
// spin lock, and aborts the process when an order closes a cycle (a deadlock that could happen).
// Abseil's own optimized builds leave that off.
//
// The tests, the simulator and the fuzzers keep the check: that is where a wrong lock order is
// found. The servers, the command-line client and the benches call SkipLockOrderChecks first
// thing in main, so a lock costs what it does in a release build of Abseil, and a wrong order
// found only in production does not take the dispatcher down with it. A test that starts those
// programs keeps the check in them too: MW_LOCK_ORDER_CHECKS=1 in their environment (which
// testing/subprocess.cc sets) makes SkipLockOrderChecks do nothing.
#ifndef MW_ENGINE_COMMON_LOCK_CHECKS_H_
#define MW_ENGINE_COMMON_LOCK_CHECKS_H_

namespace mw {

// Turns the lock-order check off for the rest of the process, unless MW_LOCK_ORDER_CHECKS=1.
// Call before any thread takes an absl::Mutex.
void SkipLockOrderChecks();

}  // namespace mw

#endif  // MW_ENGINE_COMMON_LOCK_CHECKS_H_
