// The shop's read models: the projection host with the shop's three projections, and the
// shop's queries, each asked of its projection's tables by the query that projection's file
// defines (customer_orders_projection.cpp and the others).
#include <utility>

#include "eda/cqrs/read_models.hpp"

namespace eda::cqrs {

ReadModels::ReadModels(ReadModelOptions options)
    : ReadModels(std::move(options), shop_projections()) {}

ReadModels::ReadModels(ReadModelOptions options,
                       std::vector<std::unique_ptr<Projection>> projections)
    : ProjectionHost(std::move(options), std::move(projections)),
      customer_orders_(database()),
      sales_by_day_(database()),
      awaiting_shipment_(database()) {}

Reflecting<std::vector<OrderSummary>> ReadModels::read_customer_orders(
    const std::string& customer) const {
  return read(customer_orders_projection, [&] { return customer_orders_(customer); });
}

Reflecting<std::vector<ProductDaySales>> ReadModels::read_sales_by_day(
    const std::string& first_day, const std::string& last_day) const {
  return read(sales_projection, [&] { return sales_by_day_(first_day, last_day); });
}

Reflecting<std::vector<AwaitingShipment>> ReadModels::read_awaiting_shipment(
    std::size_t limit) const {
  return read(shipment_projection, [&] { return awaiting_shipment_(limit); });
}

std::vector<OrderSummary> ReadModels::customer_orders(const std::string& customer) const {
  return read_customer_orders(customer).rows;
}

std::vector<ProductDaySales> ReadModels::sales_by_day(const std::string& first_day,
                                                      const std::string& last_day) const {
  return read_sales_by_day(first_day, last_day).rows;
}

std::vector<AwaitingShipment> ReadModels::awaiting_shipment(std::size_t limit) const {
  return read_awaiting_shipment(limit).rows;
}

}  // namespace eda::cqrs
