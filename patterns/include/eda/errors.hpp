/// @file errors.hpp
/// @brief The kit's errors: one root, eda::Error, with a category a caller can switch on, and
///        the typed error raised for anything malformed that arrives from outside.
///
/// @par The policy
/// - Everything the kit and its modules throw because the world failed them (bytes that do
///   not decode, a peer that does not answer, a port already taken, a disk that is full, a
///   remote handler that said no) derives from eda::Error, whose category() says which kind
///   of fault it is. Catch `const eda::Error&` to handle them all, or a typed error (RpcTimeout,
///   ConcurrencyConflict, ...) to handle one.
/// - Wire faults (ErrorCategory::wire: the bytes themselves are bad) and application faults
///   (ErrorCategory::application: well-formed, but a handler or a domain rule refused) are
///   separate categories: the first is a bug or an attack on the way in, the second is an
///   answer.
/// - Misuse by the calling program (an option out of range, an empty name, a call in the wrong
///   state) stays std::invalid_argument or std::logic_error: fix the caller, do not catch it.
/// - Where failure is an expected outcome rather than an exception (one append of a group
///   conflicted, a snapshot attempt failed), the result is a value the caller inspects.
///
/// eda::Error derives from std::runtime_error, so code that catches that still catches
/// everything.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace eda {

/// @brief Which kind of fault an eda::Error reports: switch on it to decide what to do.
enum class ErrorCategory {
  wire,         ///< Malformed bytes, from the wire or from storage (MalformedMessage,
                ///< CorruptEvent, CaptureError): do not retry the same bytes.
  application,  ///< A remote handler or a domain rule refused a well-formed request (RpcError,
                ///< CommandRejected, CommandRefused): an answer, not a breakdown.
  conflict,     ///< Optimistic concurrency: someone else changed it first (ConcurrencyConflict):
                ///< reload and decide again.
  timeout,      ///< No answer in time (RpcTimeout, ConsistencyTimeout): retry later.
  transport,    ///< A socket could not bind, connect or be watched (TransportError).
  security,     ///< Keys, allow-lists or a security set-up that cannot be used (SecurityError).
  storage,      ///< A database or file failed (StorageError, sourcing::StoreError).
  process,      ///< A child process could not be started (SpawnError).
};

/// @brief A short, stable name for a category (`"wire"`, `"application"`, ...).
std::string_view to_string(ErrorCategory category) noexcept;

/// @brief The root of every error the kit and its modules raise when the world fails them;
///        category() says which kind of fault it is.
class Error : public std::runtime_error {
 public:
  /// @brief An error of `category`, with a message that says what was wrong and what to do.
  Error(ErrorCategory category, const std::string& message)
      : std::runtime_error(message), category_(category) {}

  /// @brief Which kind of fault this is.
  [[nodiscard]] ErrorCategory category() const noexcept { return category_; }

 private:
  ErrorCategory category_;
};

/// @brief A socket could not bind, connect or be monitored; the message names the endpoint.
class TransportError : public Error {
 public:
  /// @brief A transport error with `message`.
  explicit TransportError(const std::string& message) : Error(ErrorCategory::transport, message) {}
};

/// @brief A database or file could not be opened, read or written; the message names it.
class StorageError : public Error {
 public:
  /// @brief A storage error with `message`.
  explicit StorageError(const std::string& message) : Error(ErrorCategory::storage, message) {}
};

/// @brief Why a message (or stored event) was rejected by a decoder.
enum class WireFault {
  not_messagepack,         ///< The bytes are not MessagePack at all.
  truncated,               ///< The MessagePack value ends before its declared length.
  trailing_bytes,          ///< Extra bytes follow a complete value.
  wrong_frame_count,       ///< The ZeroMQ message has the wrong number of frames.
  oversized,               ///< A frame is larger than the configured limit.
  bad_field,               ///< An envelope field has the wrong type or an invalid value.
  unknown_format_version,  ///< The envelope's format version is not one this build reads.
  unknown_schema_version,  ///< The payload's schema version is not the one the reader expects.
  topic_mismatch,          ///< The topic frame disagrees with the envelope's event type.
  wrong_event_type,        ///< A typed read asked for a different event type.
  payload_mismatch,        ///< The payload does not have the shape of the expected struct.
  unprocessable,           ///< Well-formed, but the consumer could not act on it (e.g. what it
                           ///< refers to does not exist).
};

/// @brief A short, stable name for a fault (`"truncated"`, `"topic_mismatch"`, ...).
std::string_view to_string(WireFault fault) noexcept;

/// @brief Untrusted bytes made safe to print: non-printable bytes become `\xNN`, and anything
///        past `max_bytes` is cut with an ellipsis.
std::string printable(std::string_view bytes, std::size_t max_bytes = 60);

/// @brief Raised when bytes from the wire or from storage are not a valid message.
///
/// The message says what was wrong in words a reader can act on; `fault()` says it in a form a
/// program can count and switch on. Consumers catch it, hand the raw bytes to a
/// DeadLetterSink, and keep going. Its category is ErrorCategory::wire.
class MalformedMessage : public Error {
 public:
  /// @brief A malformed-message error of kind `fault` with a human explanation.
  MalformedMessage(WireFault fault, const std::string& explanation);

  /// @brief What kind of fault this is.
  [[nodiscard]] WireFault fault() const noexcept { return fault_; }

 private:
  WireFault fault_;
};

}  // namespace eda
