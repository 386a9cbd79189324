#include "eda/curve_setup.hpp"

#include "eda/security.hpp"

namespace eda {

CurveSetup::CurveSetup(zmq::context_t& context, CurveKeys keys) {
  if (!keys.server_keys && !keys.client_keys) {
    throw SecurityError("a CURVE set-up needs a server key pair, a client key pair, or both");
  }
  require_curve();
  if (keys.server_keys) {
    keys.server_keys->check("the server key pair");
    zap_ = std::make_unique<ZapHandler>(context, std::move(keys.allowed_clients));
    both_ = Security::server(*zap_, std::move(*keys.server_keys));
  }
  if (keys.client_keys) {
    both_ = both_.with_client(std::move(*keys.client_keys), std::move(keys.server_public_key));
  }
}

Security CurveSetup::server() const {
  if (!is_on()) return Security::plaintext();
  if (!zap_) {
    throw SecurityError(
        "a binding socket is a CURVE server, but this process holds no server key pair "
        "(with --curve-keys DIR: DIR/server.key_secret)");
  }
  return Security::server(*zap_, *both_.server_keys());
}

Security CurveSetup::client() const {
  if (!is_on()) return Security::plaintext();
  if (!both_.client_keys()) {
    throw SecurityError(
        "a connecting socket is a CURVE client, but this process holds no client key pair "
        "(with --curve-keys DIR: DIR/clients/client.key_secret and DIR/server.key)");
  }
  return Security::client(*both_.client_keys(), both_.server_public_key());
}

}  // namespace eda
