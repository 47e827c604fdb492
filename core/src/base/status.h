// Status and StatusOr: how errors travel inside libkiln; converted to kiln_status* at the ABI edge.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "kiln/kiln_types.h"

namespace kiln {

enum class StatusCode : int32_t {
  kOk = KILN_STATUS_OK,
  kCancelled = KILN_STATUS_CANCELLED,
  kUnknown = KILN_STATUS_UNKNOWN,
  kInvalidArgument = KILN_STATUS_INVALID_ARGUMENT,
  kDeadlineExceeded = KILN_STATUS_DEADLINE_EXCEEDED,
  kNotFound = KILN_STATUS_NOT_FOUND,
  kAlreadyExists = KILN_STATUS_ALREADY_EXISTS,
  kPermissionDenied = KILN_STATUS_PERMISSION_DENIED,
  kResourceExhausted = KILN_STATUS_RESOURCE_EXHAUSTED,
  kFailedPrecondition = KILN_STATUS_FAILED_PRECONDITION,
  kAborted = KILN_STATUS_ABORTED,
  kOutOfRange = KILN_STATUS_OUT_OF_RANGE,
  kUnimplemented = KILN_STATUS_UNIMPLEMENTED,
  kInternal = KILN_STATUS_INTERNAL,
  kUnavailable = KILN_STATUS_UNAVAILABLE,
  kDataLoss = KILN_STATUS_DATA_LOSS,
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return Status(); }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: message"
  std::string to_string() const;
  // Prefixes context: "while loading x.kiln: <message>".
  Status with_context(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status already_exists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status failed_precondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status out_of_range(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status internal_error(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status data_loss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status resource_exhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status permission_denied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const Status& status) : value_(status) {}  // NOLINT: implicit by design
  StatusOr(Status&& status) : value_(std::move(status)) {}  // NOLINT
  StatusOr(const T& value) : value_(value) {}  // NOLINT
  StatusOr(T&& value) : value_(std::move(value)) {}  // NOLINT

  bool is_ok() const { return std::holds_alternative<T>(value_); }
  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(value_);
  }
  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<Status, T> value_;
};

#define KILN_CONCAT_INNER_(a, b) a##b
#define KILN_CONCAT_(a, b) KILN_CONCAT_INNER_(a, b)

#define KILN_RETURN_IF_ERROR(expr)                 \
  do {                                             \
    ::kiln::Status kiln_status_ = (expr);          \
    if (!kiln_status_.is_ok()) return kiln_status_; \
  } while (0)

#define KILN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.is_ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

// KILN_ASSIGN_OR_RETURN(auto x, compute()); — declares or assigns lhs.
#define KILN_ASSIGN_OR_RETURN(lhs, expr) \
  KILN_ASSIGN_OR_RETURN_IMPL_(KILN_CONCAT_(kiln_statusor_, __LINE__), lhs, expr)

}  // namespace kiln
