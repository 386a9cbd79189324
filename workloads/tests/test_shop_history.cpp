// A history in both designs: same answers, every event in the store and the read models,
// the questions asked alike of both and timed one sample each.

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "eda/cqrs/read_models.hpp"
#include "eda/latency.hpp"
#include "eda/workloads/shop_history.hpp"
#include "eda/workloads/shop_questions.hpp"
#include "eda_test_support.hpp"

using namespace eda::workloads;

namespace {

/// A history's three files, removed afterwards.
struct HistoryFiles {
  eda::test::TempDatabase store;
  eda::test::TempDatabase read_models;
  eda::test::TempDatabase single_model;
  [[nodiscard]] ShopHistoryFiles paths() const {
    return {.store = store.path(),
            .read_models = read_models.path(),
            .single_model = single_model.path()};
  }
};

}  // namespace

TEST_CASE("a history written into both designs gives the same answers in both",
          "[workloads][history]") {
  HistoryFiles files;
  std::uint64_t last_progress = 0;
  const ShopHistory history(files.paths(), 3000,
                            [&](std::uint64_t written) { last_progress = written; });
  CHECK(history.mismatch().empty());
  CHECK(history.events() == 3000);
  CHECK(last_progress == 3000);
  CHECK(history.store().read_all(1, 10'000).size() == 3000);
  CHECK(history.commands() > history.orders());
  CHECK(history.orders() > 100);
  CHECK(!history.customers().empty());
  CHECK(history.times().total_ns > 0);
  CHECK(history.times().single_model_ns > 0);
  // Beyond the few questions the history checks itself: every customer's orders.
  for (const std::string& customer : history.customers()) {
    REQUIRE(history.cqrs().customer_orders(customer) ==
            history.single_model().customer_orders(customer));
  }
}

TEST_CASE("a rebuild reads every event of the store into fresh read models",
          "[workloads][history]") {
  HistoryFiles files;
  const ShopHistory history(files.paths(), 2000);
  eda::test::TempDatabase rebuilt_file;
  eda::cqrs::ReadModels rebuilt({.path = rebuilt_file.path()});
  CHECK(rebuild_read_models(rebuilt, history.store()) == 2000);
  CHECK(rebuilt.position() == 2000);
  CHECK(rebuilt.sales_by_day(first_day(), last_day()) ==
        history.cqrs().sales_by_day(first_day(), last_day()));
}

TEST_CASE("each question is asked alike of both designs, one timed sample per question",
          "[workloads][history]") {
  HistoryFiles files;
  const ShopHistory history(files.paths(), 2000);
  for (const ShopQuestion question :
       {ShopQuestion::customer_orders, ShopQuestion::sales_by_day, ShopQuestion::sales_by_day_all,
        ShopQuestion::awaiting_shipment}) {
    INFO(name_of(question));
    QuestionDice cqrs_dice(history.customers());
    QuestionDice single_dice(history.customers());
    eda::LatencyRecorder cqrs_latency;
    eda::LatencyRecorder single_latency;
    for (int i = 0; i < 10; ++i) {
      const std::size_t cqrs_rows = ask_timed(history.cqrs(), question, cqrs_dice, cqrs_latency);
      const std::size_t single_rows =
          ask_timed(history.single_model(), question, single_dice, single_latency);
      CHECK(cqrs_rows == single_rows);
    }
    CHECK(cqrs_latency.count() == 10);
    CHECK(single_latency.count() == 10);
    CHECK(cqrs_latency.summary().min_ns > 0);
  }
  QuestionDice dice(history.customers());
  eda::LatencyRecorder latency;
  CHECK(ask_timed(history.cqrs(), ShopQuestion::sales_by_day_all, dice, latency) ==
        history.cqrs().sales_by_day(first_day(), last_day()).size());
  CHECK(ask_timed(history.cqrs(), ShopQuestion::awaiting_shipment, dice, latency) <= 20);
  CHECK(std::string(name_of(ShopQuestion::sales_by_day_all)) == "sales_by_day_all");
}

TEST_CASE("two question dice over the same customers ask the same questions",
          "[workloads][history]") {
  const std::vector<std::string> customers{"customer-0001", "customer-0002", "customer-0003"};
  QuestionDice first(customers);
  QuestionDice second(customers);
  for (int i = 0; i < 20; ++i) {
    CHECK(first.customer() == second.customer());
    CHECK(first.week() == second.week());
  }
  const auto [monday, sunday] = QuestionDice(customers).week();
  CHECK(monday >= first_day());
  CHECK(sunday < last_day());
}
