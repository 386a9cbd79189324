// Where a PostgreSQL connection string points, said without its password (private to the
// PostgreSQL store, eda::sourcing_postgres).
#pragma once

#include <string>

namespace eda::sourcing::postgres {

/// `host:port/database as user` from a libpq connection string (a URI or key=value pairs), as
/// error messages may show it: the password, and anything else in the string, never appears.
/// What the string leaves out is libpq's default (`the default host`, port 5432; no database
/// or user: left out). Throws std::invalid_argument when libpq cannot parse the string, with
/// libpq's reason only when the string holds no password (the reason may quote a piece of it).
std::string describe_server(const std::string& connection);

}  // namespace eda::sourcing::postgres
