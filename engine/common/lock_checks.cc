#include "engine/common/lock_checks.h"

#include "absl/synchronization/mutex.h"

namespace mw {

void SkipLockOrderChecks() { absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore); }

}  // namespace mw
