// The scheme of a store spec (`postgresql` in `postgresql://...`), shared by the parsing of
// specs (open_store.cpp) and their redaction (redact_store_spec.cpp).
#pragma once

#include <string>
#include <string_view>

namespace eda::sourcing::detail {

/// The scheme at the start of `spec` (RFC 3986: a letter, then letters, digits, `+-.`),
/// lower-cased, without its `:`; empty when there is none.
std::string scheme_of(std::string_view spec);

}  // namespace eda::sourcing::detail
