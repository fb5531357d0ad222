// Status propagation macros for Abseil's Status / StatusOr.
//
// Debian 12's Abseil (20220623) predates ABSL_RETURN_IF_ERROR; these have the
// same meaning. They live in geo/ because geo is the lowest layer of the
// project and every other module may depend on it.
//
// Typical usage:
//   absl::Status Load() {
//     UTM_RETURN_IF_ERROR(Validate(x));
//     UTM_ASSIGN_OR_RETURN(Volume4D v, Parse(y));
//     ...
//   }
#ifndef UTM_GEO_STATUS_MACROS_H_
#define UTM_GEO_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define UTM_STATUS_CONCAT_INNER_(a, b) a##b
#define UTM_STATUS_CONCAT_(a, b) UTM_STATUS_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the current function
// if it is not OK.
#define UTM_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::absl::Status utm_status_ = (expr);       \
    if (!utm_status_.ok()) return utm_status_; \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status,
// otherwise moves the value into `lhs` (which may be a declaration).
#define UTM_ASSIGN_OR_RETURN(lhs, rexpr)                                       \
  UTM_ASSIGN_OR_RETURN_IMPL_(UTM_STATUS_CONCAT_(utm_statusor_, __LINE__), lhs, \
                             rexpr)

#define UTM_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr)   \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // UTM_GEO_STATUS_MACROS_H_
