// Every error the kit raises is an eda::Error whose category a caller can switch on; wire
// faults and application faults are different categories.

#include <string>
#include <type_traits>

#include <catch2/catch.hpp>
#include <zmq.hpp>

#include "eda/dead_letter.hpp"
#include "eda/endpoint.hpp"
#include "eda/errors.hpp"
#include "eda/rpc.hpp"
#include "eda/security.hpp"

using eda::ErrorCategory;

namespace {

/// The category of `error` when it is caught as an eda::Error.
template <typename E>
ErrorCategory caught_as_error(const E& error) {
  try {
    throw error;
  } catch (const eda::Error& e) {
    return e.category();
  }
}

}  // namespace

TEST_CASE("each typed error of the kit is an eda::Error of its category", "[errors]") {
  static_assert(std::is_base_of_v<std::runtime_error, eda::Error>);
  CHECK(caught_as_error(eda::MalformedMessage(eda::WireFault::truncated, "cut")) ==
        ErrorCategory::wire);
  CHECK(caught_as_error(eda::RpcError("rejected", "place", "no stock")) ==
        ErrorCategory::application);
  CHECK(caught_as_error(eda::RpcTimeout("no reply")) == ErrorCategory::timeout);
  CHECK(caught_as_error(eda::SecurityError("bad key")) == ErrorCategory::security);
  CHECK(caught_as_error(eda::TransportError("cannot bind")) == ErrorCategory::transport);
  CHECK(caught_as_error(eda::StorageError("disk full")) == ErrorCategory::storage);
}

TEST_CASE("wire faults and application faults are separate categories", "[errors]") {
  const eda::MalformedMessage wire(eda::WireFault::bad_field, "bad field");
  const eda::RpcError application("rejected", "place", "out of stock");
  CHECK(wire.category() == ErrorCategory::wire);
  CHECK(application.category() == ErrorCategory::application);
  CHECK(wire.category() != application.category());
  CHECK(to_string(ErrorCategory::wire) == "wire");
  CHECK(to_string(ErrorCategory::application) == "application");
  CHECK(to_string(ErrorCategory::conflict) == "conflict");
  CHECK(to_string(ErrorCategory::storage) == "storage");
}

TEST_CASE("an endpoint that cannot be bound is a TransportError naming it", "[errors]") {
  zmq::context_t context;
  zmq::socket_t first(context, zmq::socket_type::pub);
  zmq::socket_t second(context, zmq::socket_type::pub);
  first.set(zmq::sockopt::linger, 0);
  second.set(zmq::sockopt::linger, 0);
  const std::string taken = eda::bind_endpoint(first, "inproc://errors-test-taken");
  try {
    (void)eda::bind_endpoint(second, taken);
    FAIL("bound the same inproc endpoint twice");
  } catch (const eda::Error& e) {
    CHECK(e.category() == ErrorCategory::transport);
    CHECK(std::string(e.what()).find(taken) != std::string::npos);
  }
  // Misuse stays std::invalid_argument, not an eda::Error.
  CHECK_THROWS_AS(eda::bind_endpoint(second, "nonsense"), std::invalid_argument);
}

TEST_CASE("a dead-letter file that cannot be opened is a StorageError", "[errors]") {
  CHECK_THROWS_AS(eda::DeadLetterFile("/nonexistent-directory/for/sure/dead.jsonl"),
                  eda::StorageError);
}
