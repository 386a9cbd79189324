// bench-codec: what encoding and decoding one event costs, and why the kit encodes payloads
// with positional MessagePack fields.
//
// Pairs to compare (same six-field payload): Positional (MSGPACK_DEFINE), Named
// (MSGPACK_DEFINE_MAP) and Json (nlohmann/json), each for encode and decode; and the kit's
// whole envelope (metadata + positional payload), once for one event encoded again and again and
// once for events with ids of their own (FreshIds), and with their metadata made as a publisher
// makes it (MakeAndEncode). Debian's libbenchmark is a debug build, so
// each iteration runs a batch of operations and the counter `per_op` gives the time of one.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eda/codec.hpp"

namespace {

constexpr int batch = 100;

struct Positional {
  static constexpr std::string_view event_type = "shop.order.placed";
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 42;
  std::string customer = "customer-42";
  std::string item = "widget";
  std::uint32_t quantity = 3;
  std::int64_t price_cents = 1999;
  bool express = true;
  MSGPACK_DEFINE(order_id, customer, item, quantity, price_cents, express)
};

struct Named {
  std::uint64_t order_id = 42;
  std::string customer = "customer-42";
  std::string item = "widget";
  std::uint32_t quantity = 3;
  std::int64_t price_cents = 1999;
  bool express = true;
  MSGPACK_DEFINE_MAP(order_id, customer, item, quantity, price_cents, express)
};

nlohmann::json to_json(const Named& o) {
  return {{"order_id", o.order_id}, {"customer", o.customer},       {"item", o.item},
          {"quantity", o.quantity}, {"price_cents", o.price_cents}, {"express", o.express}};
}

Named from_json(const nlohmann::json& j) {
  Named o;
  o.order_id = j.at("order_id").get<std::uint64_t>();
  o.customer = j.at("customer").get<std::string>();
  o.item = j.at("item").get<std::string>();
  o.quantity = j.at("quantity").get<std::uint32_t>();
  o.price_cents = j.at("price_cents").get<std::int64_t>();
  o.express = j.at("express").get<bool>();
  return o;
}

/// items/s = values (or envelopes) per second; bytes/s = their encoded bytes per second;
/// `per_op` = time per value.
void report(benchmark::State& state, std::size_t encoded_bytes) {
  const auto ops = static_cast<double>(state.iterations()) * batch;
  state.SetItemsProcessed(static_cast<std::int64_t>(ops));
  state.SetBytesProcessed(static_cast<std::int64_t>(ops) *
                          static_cast<std::int64_t>(encoded_bytes));
  state.counters["per_op"] =
      benchmark::Counter(ops, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

template <class T>
void BM_Codec_Encode(benchmark::State& state) {
  const T value{};
  msgpack::sbuffer buffer(256);
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      buffer.clear();
      msgpack::pack(buffer, value);
      benchmark::DoNotOptimize(buffer.data());
    }
  }
  report(state, buffer.size());
}

template <class T>
void BM_Codec_Decode(benchmark::State& state) {
  const std::string bytes = eda::encode_value(T{});
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      auto handle = msgpack::unpack(bytes.data(), bytes.size());
      T value = handle.get().as<T>();
      benchmark::DoNotOptimize(value);
    }
  }
  report(state, bytes.size());
}

void BM_Codec_Encode_Json(benchmark::State& state) {
  const Named value{};
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      std::string text = to_json(value).dump();
      benchmark::DoNotOptimize(text);
    }
  }
  report(state, to_json(value).dump().size());
}

void BM_Codec_Decode_Json(benchmark::State& state) {
  const std::string text = to_json(Named{}).dump();
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      Named value = from_json(nlohmann::json::parse(text));
      benchmark::DoNotOptimize(value);
    }
  }
  report(state, text.size());
}

// The kit's full envelope: eight metadata fields plus the positional payload.
void BM_Envelope_Encode(benchmark::State& state) {
  const auto event = eda::make_event("order-service", Positional{});
  msgpack::sbuffer buffer(512);
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      buffer.clear();
      eda::encode_event(event.meta, event.payload, buffer);
      benchmark::DoNotOptimize(buffer.data());
    }
  }
  state.counters["bytes"] = static_cast<double>(buffer.size());
  report(state, buffer.size());
}

// The same, each envelope with ids of its own, as a publisher sends them: random digits, where
// one envelope encoded again and again lets the CPU learn its ids by heart. The events are made
// beforehand, so only the encoding is timed.
void BM_Envelope_Encode_FreshIds(benchmark::State& state) {
  constexpr std::size_t distinct = 4096;
  std::vector<eda::Event<Positional>> events;
  events.reserve(distinct);
  for (std::size_t i = 0; i < distinct; ++i) {
    auto event = eda::make_event("order-service", Positional{});
    event.meta.causation_id = eda::new_event_id();  // as for a follow-up of another event
    events.push_back(std::move(event));
  }
  msgpack::sbuffer buffer(512);
  std::size_t next = 0;
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      const auto& event = events[next];
      next = (next + 1) % distinct;
      buffer.clear();
      eda::encode_event(event.meta, event.payload, buffer);
      benchmark::DoNotOptimize(buffer.data());
    }
  }
  state.counters["bytes"] = static_cast<double>(buffer.size());
  report(state, buffer.size());
}

// What a publisher does for each event before its socket: new metadata (a fresh id, the clock,
// the correlation root), then the encoding; Publisher::publish, less the send.
void BM_Envelope_MakeAndEncode(benchmark::State& state) {
  const Positional payload{};
  msgpack::sbuffer buffer(512);
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      const eda::EventMetadata meta = eda::make_metadata<Positional>("order-service");
      buffer.clear();
      eda::encode_event(meta, payload, buffer);
      benchmark::DoNotOptimize(buffer.data());
    }
  }
  state.counters["bytes"] = static_cast<double>(buffer.size());
  report(state, buffer.size());
}

void BM_Envelope_Decode(benchmark::State& state) {
  const std::string bytes = eda::encode_event(eda::make_event("order-service", Positional{}));
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      const auto event = eda::DecodedEvent::decode(bytes);
      Positional payload = event.payload_as<Positional>();
      benchmark::DoNotOptimize(payload);
    }
  }
  report(state, bytes.size());
}

}  // namespace

BENCHMARK_TEMPLATE(BM_Codec_Encode, Positional)->Name("BM_Codec_Encode/Positional");
BENCHMARK_TEMPLATE(BM_Codec_Encode, Named)->Name("BM_Codec_Encode/Named");
BENCHMARK(BM_Codec_Encode_Json)->Name("BM_Codec_Encode/Json");
BENCHMARK_TEMPLATE(BM_Codec_Decode, Positional)->Name("BM_Codec_Decode/Positional");
BENCHMARK_TEMPLATE(BM_Codec_Decode, Named)->Name("BM_Codec_Decode/Named");
BENCHMARK(BM_Codec_Decode_Json)->Name("BM_Codec_Decode/Json");
BENCHMARK(BM_Envelope_Encode);
BENCHMARK(BM_Envelope_Encode_FreshIds);
BENCHMARK(BM_Envelope_MakeAndEncode);
BENCHMARK(BM_Envelope_Decode);

BENCHMARK_MAIN();
