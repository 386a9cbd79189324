#include "eda/socket_security.hpp"

#include "eda/security.hpp"

namespace eda {
namespace {

/// ZMQ_ZAP_ENFORCE_DOMAIN, declared by zmq.h only for draft builds.
constexpr int zap_enforce_domain_option = 93;

}  // namespace

Security Security::server(const ZapHandler& authenticator, KeyPair keys) {
  require_curve();
  keys.check("the server key pair");
  Security security;
  security.server_keys_ = std::move(keys);
  security.authenticator_ = authenticator.presence();
  return security;
}

Security Security::client(KeyPair keys, std::string server_public_key) {
  return Security().with_client(std::move(keys), std::move(server_public_key));
}

Security Security::with_client(KeyPair keys, std::string server_public_key) const {
  require_curve();
  keys.check("the client key pair");
  check_z85_key(server_public_key, "the server public key a client trusts");
  Security security = *this;
  security.client_keys_ = std::move(keys);
  security.server_public_key_ = std::move(server_public_key);
  return security;
}

bool secure_server_socket(zmq::context_t& context, zmq::socket_t& socket, const Security& security,
                          std::string_view what) {
  if (security.is_plaintext()) return false;
  if (!security.server_keys()) {
    throw SecurityError(std::string(what) +
                        " binds, so it is the CURVE server: its Security needs the server half "
                        "(eda::Security::server, or CurveSetup::server()), not only client keys");
  }
  require_curve();
  security.server_keys()->check(std::string(what));
  if (security.authenticator() == nullptr || !security.authenticator()->guards(context)) {
    throw SecurityError(std::string(what) +
                        ": refusing to run CURVE without a running ZAP handler in its context, "
                        "because libzmq would then let every client in; make its Security from "
                        "an eda::ZapHandler (or eda::CurveSetup) of this socket's context");
  }
  socket.set(zmq::sockopt::zap_domain, std::string(zap_domain));
  // Belt and braces: ZMQ_ZAP_ENFORCE_DOMAIN (a draft option in libzmq 4.3, number 93, which
  // Debian's build has) makes libzmq itself refuse every handshake when no ZAP handler answers,
  // e.g. one stopped while this socket still runs. Where it is missing the call fails
  // harmlessly and the check above is the guard.
  const int enforce = 1;
  (void)zmq_setsockopt(socket.handle(), zap_enforce_domain_option, &enforce, sizeof enforce);
  socket.set(zmq::sockopt::curve_server, true);
  socket.set(zmq::sockopt::curve_secretkey, security.server_keys()->secret_key);
  socket.set(zmq::sockopt::curve_publickey, security.server_keys()->public_key);
  return true;
}

bool secure_client_socket(zmq::socket_t& socket, const Security& security, std::string_view what) {
  if (security.is_plaintext()) return false;
  if (!security.client_keys()) {
    throw SecurityError(std::string(what) +
                        " connects, so it is a CURVE client: its Security needs client keys and "
                        "the server's public key (eda::Security::client, or CurveSetup::client())");
  }
  require_curve();
  security.client_keys()->check(std::string(what));
  check_z85_key(security.server_public_key(), std::string(what) + ": the server public key");
  socket.set(zmq::sockopt::curve_serverkey, security.server_public_key());
  socket.set(zmq::sockopt::curve_publickey, security.client_keys()->public_key);
  socket.set(zmq::sockopt::curve_secretkey, security.client_keys()->secret_key);
  return true;
}

}  // namespace eda
