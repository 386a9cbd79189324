// Helpers for the PostgreSQL event store tests: a fresh, empty database per test on the server
// named by EDA_TEST_POSTGRES (with_postgres.sh starts a throw-away one and sets it).
#pragma once

#include <libpq-fe.h>

#include <cctype>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include "eda/envelope.hpp"

namespace eda::sourcing::test {

/// The server the tests may use: a connection string to its maintenance database.
inline std::string postgres_server() {
  const char* server = std::getenv("EDA_TEST_POSTGRES");
  if (server == nullptr || *server == '\0') {
    throw std::runtime_error(
        "EDA_TEST_POSTGRES is not set: run these tests through sourcing/tests/with_postgres.sh "
        "(it starts a throw-away PostgreSQL), or set it to postgresql://USER@HOST:PORT/postgres");
  }
  return server;
}

/// A plain libpq connection for the tests' own SQL (creating databases, spoiling rows).
class RawPostgres {
 public:
  explicit RawPostgres(const std::string& connection)
      : conn_(PQconnectdb(connection.c_str()), PQfinish) {
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
      throw std::runtime_error(std::string("test connection failed: ") +
                               PQerrorMessage(conn_.get()));
    }
  }
  /// Runs `sql`; throws with the server's message when it fails.
  void exec(const std::string& sql) {
    const std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn_.get(), sql.c_str()),
                                                               PQclear);
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      throw std::runtime_error(sql + ": " + PQresultErrorMessage(result.get()));
    }
  }
  /// Runs `sql` and returns the first column of its first row ("" when there is none).
  std::string value(const std::string& sql) {
    const std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn_.get(), sql.c_str()),
                                                               PQclear);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      throw std::runtime_error(sql + ": " + PQresultErrorMessage(result.get()));
    }
    return PQntuples(result.get()) > 0 ? PQgetvalue(result.get(), 0, 0) : "";
  }

 private:
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

/// The connection string `server` with its database replaced by `database`, as key=value pairs.
inline std::string with_database(const std::string& server, const std::string& database) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(server.c_str(), &error);
  if (options == nullptr) {
    const std::string reason = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    throw std::runtime_error("EDA_TEST_POSTGRES is not a connection string: " + reason);
  }
  const auto quoted = [](const std::string& value) {
    std::string out = "'";
    for (const char c : value) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out + "'";
  };
  std::string result;
  for (const PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val == nullptr || std::string(option->keyword) == "dbname") continue;
    result += std::string(option->keyword) + "=" + quoted(option->val) + " ";
  }
  PQconninfoFree(options);
  return result + "dbname=" + quoted(database);
}

/// A new empty database on the test server, dropped (with whatever still connects to it)
/// when the test is over.
class TempPostgresDatabase {
 public:
  TempPostgresDatabase() : server_(postgres_server()), name_("eda_test_") {
    for (const char c : eda::new_event_id()) {
      if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
        name_ += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
    }
    name_ = name_.substr(0, 60);
    RawPostgres(server_).exec("CREATE DATABASE " + name_);
  }
  ~TempPostgresDatabase() {
    try {
      RawPostgres(server_).exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (...) {  // the server is gone: so is the database, with its cluster
    }
  }
  TempPostgresDatabase(const TempPostgresDatabase&) = delete;
  TempPostgresDatabase& operator=(const TempPostgresDatabase&) = delete;

  /// The connection string of this database.
  [[nodiscard]] std::string connection() const { return with_database(server_, name_); }
  /// Its name.
  [[nodiscard]] const std::string& name() const { return name_; }
  /// This database as a store spec for open_event_store(): EDA_TEST_POSTGRES is a URI
  /// (postgresql://USER@HOST:PORT/postgres), here with this database in place of its path.
  [[nodiscard]] std::string store_spec() const {
    const std::size_t authority = server_.find("://");
    if (authority == std::string::npos) {
      throw std::runtime_error("EDA_TEST_POSTGRES is not a postgresql:// URI");
    }
    const std::size_t path = server_.find_first_of("/?", authority + 3);
    return server_.substr(0, path) + "/" + name_;
  }

 private:
  std::string server_;
  std::string name_;
};

}  // namespace eda::sourcing::test
