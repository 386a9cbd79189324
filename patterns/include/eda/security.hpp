/// @file security.hpp
/// @brief CurveZMQ encryption and authentication for the kit's sockets: the umbrella header.
///
/// The parts, each in its own header:
/// - keys.hpp: key pairs, key files, Z85 checks, the AllowList of client keys;
/// - authenticator.hpp: the ZapHandler (RFC 27) that lets allow-listed clients in;
/// - socket_security.hpp: the Security of one socket, and applying it before bind/connect;
/// - curve_setup.hpp: CurveSetup, a process's keys and ZAP handler, handing out Securities.
///
/// @par Explicit, per socket
/// Which sockets run CURVE is said by the caller, in each socket's options (`.security`):
/// there is no per-context default and no registry. A socket given no Security is plaintext;
/// one given CURVE gets CURVE or throws. A server Security can only be made from a running
/// ZapHandler (Security::server(zap, keys)), so "never CURVE without ZAP" is a property of the
/// type, checked again against the socket's context when it is set up (socket_security.hpp).
#pragma once

#include <stdexcept>

#include "eda/errors.hpp"

namespace eda {

/// @brief A key file, key pair or allow-list that cannot be used, or a security set-up that
///        would not be safe; the message names the file (and line) and says what to do.
///        Category: ErrorCategory::security.
class SecurityError : public Error {
 public:
  /// @brief A security error with `message`.
  explicit SecurityError(const std::string& message) : Error(ErrorCategory::security, message) {}
};

}  // namespace eda

#include "eda/authenticator.hpp"
#include "eda/curve_setup.hpp"
#include "eda/keys.hpp"
#include "eda/socket_security.hpp"
