#include "postgres_server.hpp"

#include <libpq-fe.h>

#include <stdexcept>
#include <string_view>

namespace eda::sourcing::postgres {

namespace {

/// Whether `connection` may hold a password: a `password` keyword or parameter, or a URI whose
/// user part has a colon (`postgresql://user:secret@host`).
bool may_hold_password(const std::string& connection) {
  if (connection.find("password") != std::string::npos) return true;
  const auto scheme = connection.find("://");
  if (scheme == std::string::npos) return false;
  const auto at = connection.find('@', scheme);
  const auto colon = connection.find(':', scheme + 3);
  return at != std::string::npos && colon < at;
}

}  // namespace

std::string describe_server(const std::string& connection) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(connection.c_str(), &error);
  if (options == nullptr) {
    std::string reason = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
    throw std::invalid_argument(
        "not a PostgreSQL connection string (expected postgresql://user@host:port/database or "
        "key=value pairs)" +
        (may_hold_password(connection) ? std::string() : ": " + reason));
  }
  std::string host = "the default host", port = "5432", database, user;
  for (const PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val == nullptr || *option->val == '\0') continue;
    const std::string_view keyword = option->keyword;
    if (keyword == "host" || (keyword == "hostaddr" && host == "the default host")) {
      host = option->val;
    } else if (keyword == "port") {
      port = option->val;
    } else if (keyword == "dbname") {
      database = option->val;
    } else if (keyword == "user") {
      user = option->val;
    }
  }
  PQconninfoFree(options);
  std::string where = host + ":" + port;
  if (!database.empty()) where += "/" + database;
  if (!user.empty()) where += " as " + user;
  return where;
}

}  // namespace eda::sourcing::postgres
