// Status propagation helpers. Abseil 20220623 ships none, so the project defines them once here.
//
//   absl::Status Apply() {
//     MW_RETURN_IF_ERROR(Check());
//     MW_ASSIGN_OR_RETURN(Record r, Load());
//     ...
//   }
#ifndef MW_ENGINE_COMMON_STATUS_MACROS_H_
#define MW_ENGINE_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define MW_STATUS_CONCAT_INNER_(a, b) a##b
#define MW_STATUS_CONCAT_(a, b) MW_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define MW_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::absl::Status mw_status_ = (expr);      \
    if (!mw_status_.ok()) return mw_status_; \
  } while (0)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status, else moves the value
// into `lhs`, which may be a declaration.
#define MW_ASSIGN_OR_RETURN(lhs, rexpr) \
  MW_ASSIGN_OR_RETURN_IMPL_(MW_STATUS_CONCAT_(mw_statusor_, __LINE__), lhs, rexpr)

#define MW_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                              \
  if (!statusor.ok()) return statusor.status();         \
  lhs = std::move(statusor).value()

#endif  // MW_ENGINE_COMMON_STATUS_MACROS_H_
