// A store spec as it may be printed (redact_store_spec, redact_store_spec.cpp): the password
// leaves a URI's user part and every `password=` parameter; everything else stays as written.
#include <string>

#include <catch2/catch.hpp>

#include "eda/sourcing/open_store.hpp"

using eda::sourcing::redact_store_spec;

TEST_CASE("the password leaves a URI's user part", "[redaction]") {
  CHECK(redact_store_spec("postgresql://user:secret@host/db") == "postgresql://user@host/db");
  CHECK(redact_store_spec("postgres://user:secret@host:5433/db?sslmode=require") ==
        "postgres://user@host:5433/db?sslmode=require");
  CHECK(redact_store_spec("postgres://:secret@host") == "postgres://@host");
  // The user part ends at the authority's last '@': a raw '@' in the password goes too.
  CHECK(redact_store_spec("postgresql://us%40er:se@cret@h1,h2/db") ==
        "postgresql://us%40er@h1,h2/db");
  // An '@' after the authority (in the path or the query) is not a user part.
  CHECK(redact_store_spec("postgresql://host/db?application_name=a:b@c") ==
        "postgresql://host/db?application_name=a:b@c");
}

TEST_CASE("every password= parameter goes, with its separator, whatever its case", "[redaction]") {
  CHECK(redact_store_spec("postgresql://user@host/db?password=secret") ==
        "postgresql://user@host/db");
  CHECK(redact_store_spec("postgresql://host/db?sslmode=require&password=secret&x=1") ==
        "postgresql://host/db?sslmode=require&x=1");
  CHECK(redact_store_spec("postgresql://host/db?password=secret&x=1") ==
        "postgresql://host/db?x=1");
  CHECK(redact_store_spec("postgresql://host/db?sslmode=require&PASSWORD=secret") ==
        "postgresql://host/db?sslmode=require");
  const std::string pairs = redact_store_spec("host=h password=secret dbname=d");
  CHECK(pairs.find("secret") == std::string::npos);
  CHECK_THAT(pairs, Catch::StartsWith("host=h") && Catch::EndsWith("dbname=d"));
  // Only a parameter named password: a value that merely contains the word stays.
  CHECK(redact_store_spec("postgresql://host/db?application_name=password=x") ==
        "postgresql://host/db?application_name=password=x");
}

TEST_CASE("a spec without a password is returned as it is", "[redaction]") {
  for (const std::string spec :
       {"postgresql://user@host/db", "postgresql://host:5432/db", "memory:", "sqlite:orders.db",
        "/var/lib/shop/orders.db", "./a:b@c.db", ""}) {
    INFO(spec);
    CHECK(redact_store_spec(spec) == spec);
  }
}
