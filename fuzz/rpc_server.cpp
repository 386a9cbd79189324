// Target `rpc_server`: the kit's RpcServer (REP) receiving any request frames, sent by a raw
// DEALER over inproc:// on the fuzzing thread (the input's frames follow the REQ delimiter).
// Methods: `Echo` (raw bytes), `Typed` (handle_typed with a struct body), `Fail` (throws).
//
// Properties: every request gets exactly one reply of two frames (status, body) with a
// status of the protocol; `Typed` answers `ok` exactly when its body decodes as the struct,
// with the struct re-encoded; counters add up to the requests seen; the server survives.
#include <cstdint>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>

#include "eda/rpc.hpp"
#include "fuzz_support.hpp"

namespace {

struct TypedRequest {
  std::uint64_t id = 0;
  std::string name;
  std::vector<std::int32_t> values;
  MSGPACK_DEFINE(id, name, values)
};

struct Fixture {
  Fixture()
      : server(eda::fuzz::context(),
               eda::RpcServerOptions{.endpoints = {eda::fuzz::inproc_endpoint("rpc")}}),
        peer(server.endpoints().front()) {
    server.handle("Echo", [](std::string_view body) { return std::string(body); });
    server.handle_typed<TypedRequest>("Typed", [](const TypedRequest& r) { return r; });
    server.handle("Fail", [](std::string_view) -> std::string {
      throw std::runtime_error("failed on purpose");
    });
  }
  eda::RpcServer server;
  eda::fuzz::RawPeer peer;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto* fixture = new Fixture();
  auto parts = eda::fuzz::split_frames(eda::fuzz::as_view(data, size));
  parts.insert(parts.begin(), std::string_view());  // the REQ delimiter: a REP drops anything else
  const eda::RpcServerStats before = fixture->server.stats();
  fixture->peer.send(parts);
  const auto reply = fixture->peer.await_reply(
      [&] { (void)fixture->server.serve_once(std::chrono::milliseconds(5)); });
  EDA_FUZZ_CHECK(reply.has_value(), "no reply to a request");
  EDA_FUZZ_CHECK(reply->size() == 3 && (*reply)[0].empty(),
                 "a reply is [delimiter, status, body], got " + eda::fuzz::describe_frames(*reply));
  const std::string& status = (*reply)[1];
  const std::string& body = (*reply)[2];
  static const std::set<std::string> statuses{"ok", "error", "bad_request", "unknown_method"};
  EDA_FUZZ_CHECK(statuses.count(status) == 1, "unknown status " + status);

  const eda::RpcServerStats& after = fixture->server.stats();
  EDA_FUZZ_CHECK(after.served + after.failed + after.bad_requests ==
                     before.served + before.failed + before.bad_requests + 1,
                 "counters do not add up to one request");

  const std::size_t frames = parts.size() - 1;
  if (frames != 2) {
    EDA_FUZZ_CHECK(status == "bad_request",
                   "a request of " + std::to_string(frames) + " frames got " + status);
    return 0;
  }
  const std::string_view method = parts[1];
  const std::string_view request = parts[2];
  if (method == "Echo") {
    EDA_FUZZ_CHECK(status == "ok" && body == request, "Echo did not echo");
  } else if (method == "Typed") {
    try {
      const auto decoded = eda::decode_value<TypedRequest>(request, "typed");
      EDA_FUZZ_CHECK(status == "ok", "a valid typed body got " + status);
      EDA_FUZZ_CHECK(body == eda::encode_value(decoded), "typed reply is not the decoded body");
    } catch (const eda::MalformedMessage&) {
      EDA_FUZZ_CHECK(status == "bad_request", "an invalid typed body got " + status);
    }
  } else if (method == "Fail") {
    EDA_FUZZ_CHECK(status == "error" && body == "failed on purpose", "Fail did not fail");
  } else {
    EDA_FUZZ_CHECK(status == "unknown_method",
                   "unknown method " + std::string(method) + " got " + status);
  }
  return 0;
}
