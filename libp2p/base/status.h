// Status and StatusOr<T>: the result types of every fallible API in this project. No exceptions cross an API;
// callers must look at the result ([[nodiscard]]).
#ifndef LIBP2P_BASE_STATUS_H_
#define LIBP2P_BASE_STATUS_H_

#include <cassert>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace libp2p {

// What went wrong, coarsely; the message says the rest.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // Malformed input: a bad encoding, a field out of range, an unknown code.
  kOutOfRange,          // A value or length beyond a configured limit.
  kResourceExhausted,   // A queue, cache or connection limit is full.
  kFailedPrecondition,  // The object is not in a state that allows the call (closed, already started).
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,  // Refused by policy (a validator, a signing policy, a peer's identity).
  kUnauthenticated,   // A signature or MAC did not verify.
  kDeadlineExceeded,  // A timeout expired.
  kUnavailable,       // The peer, connection or stream is gone.
  kCancelled,
  kInternal,  // A failure in a library we call (BoringSSL, the OS).
};

// Returns the name of `code`, e.g. "INVALID_ARGUMENT".
std::string_view StatusCodeName(StatusCode code);

// A success, or a failure with a code and a human-readable message.
class [[nodiscard]] Status {
 public:
  // Success.
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "OK", or "<CODE>: <message>".
  std::string ToString() const;

  // Marks a status as deliberately ignored.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string m) { return Status(StatusCode::kInvalidArgument, std::move(m)); }
inline Status OutOfRangeError(std::string m) { return Status(StatusCode::kOutOfRange, std::move(m)); }
inline Status ResourceExhaustedError(std::string m) {
  return Status(StatusCode::kResourceExhausted, std::move(m));
}
inline Status FailedPreconditionError(std::string m) {
  return Status(StatusCode::kFailedPrecondition, std::move(m));
}
inline Status NotFoundError(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
inline Status AlreadyExistsError(std::string m) { return Status(StatusCode::kAlreadyExists, std::move(m)); }
inline Status PermissionDeniedError(std::string m) {
  return Status(StatusCode::kPermissionDenied, std::move(m));
}
inline Status UnauthenticatedError(std::string m) {
  return Status(StatusCode::kUnauthenticated, std::move(m));
}
inline Status DeadlineExceededError(std::string m) {
  return Status(StatusCode::kDeadlineExceeded, std::move(m));
}
inline Status UnavailableError(std::string m) { return Status(StatusCode::kUnavailable, std::move(m)); }
inline Status CancelledError(std::string m) { return Status(StatusCode::kCancelled, std::move(m)); }
inline Status InternalError(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }

// A value of type T, or the non-OK Status that explains why there is none.
template <typename T>
class [[nodiscard]] StatusOr {
  static_assert(!std::is_same_v<std::decay_t<T>, Status>, "StatusOr<Status> is not meaningful");

 public:
  // A failure. Constructing from an OK status is a programming error (asserted), and yields kInternal.
  StatusOr(Status status) : state_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(state_).ok());
    if (std::get<Status>(state_).ok()) {
      state_ = InternalError("StatusOr constructed from an OK status");
    }
  }
  StatusOr(const T& value) : state_(value) {}        // NOLINT: implicit by design
  StatusOr(T&& value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  template <typename U,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::decay_t<U>, Status> &&
                                        !std::is_same_v<std::decay_t<U>, StatusOr<T>> &&
                                        !std::is_same_v<std::decay_t<U>, T>>>
  StatusOr(U&& value) : state_(T(std::forward<U>(value))) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }

  // OK when a value is held.
  Status status() const { return ok() ? OkStatus() : std::get<Status>(state_); }

  // The value; calling these on a failure is a programming error.
  T& value() & {
    assert(ok());
    return std::get<T>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> state_;
};

}  // namespace libp2p

#define LIBP2P_STATUS_CONCAT_INNER_(a, b) a##b
#define LIBP2P_STATUS_CONCAT_(a, b) LIBP2P_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function with the status of `expr` when it is not OK.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::libp2p::Status libp2p_status_ = (expr);          \
    if (!libp2p_status_.ok()) return libp2p_status_;   \
  } while (0)

// Evaluates `rexpr` (a StatusOr); on failure returns its status, else moves the value into `lhs`
// (a declaration such as `auto x` or an existing variable).
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  ASSIGN_OR_RETURN_IMPL_(LIBP2P_STATUS_CONCAT_(libp2p_statusor_, __LINE__), lhs, rexpr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                           \
  if (!tmp.ok()) return tmp.status();           \
  lhs = std::move(tmp).value()

#endif  // LIBP2P_BASE_STATUS_H_
