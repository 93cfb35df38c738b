#include "engine/common/lock_checks.h"

#include <cstdlib>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace mw {

void SkipLockOrderChecks() {
  const char* keep = std::getenv("MW_LOCK_ORDER_CHECKS");
  if (keep != nullptr && absl::string_view(keep) == "1") return;
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace mw
