// A store spec as it may be printed (open_store.hpp's redact_store_spec): every message and
// description that names a store goes through here, so that a password never reaches a log.

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

#include "eda/sourcing/open_store.hpp"
#include "store_spec_scheme.hpp"

namespace eda::sourcing {

namespace {

bool is_password_key(std::string_view text) {
  constexpr std::string_view key = "password=";
  if (text.size() < key.size()) return false;
  for (std::size_t i = 0; i < key.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != key[i]) return false;
  }
  return true;
}

/// `text` without any `password=VALUE` (a URI query parameter, or a libpq keyword pair that
/// was written where a path was expected), and without the separator before it.
std::string without_password_parameters(const std::string& text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const bool at_start = i == 0 || text[i - 1] == '?' || text[i - 1] == '&' ||
                          std::isspace(static_cast<unsigned char>(text[i - 1])) != 0;
    if (at_start && is_password_key(std::string_view(text).substr(i))) {
      std::size_t end = i;
      while (end < text.size() && text[end] != '&' && text[end] != '#' &&
             std::isspace(static_cast<unsigned char>(text[end])) == 0) {
        ++end;
      }
      // Drop the separator too: `?a=1&password=x&b=2` -> `?a=1&b=2`, `?password=x` -> ``.
      if (end < text.size() && text[end] == '&') {
        ++end;
      } else if (!out.empty() && (out.back() == '&' || out.back() == '?')) {
        out.pop_back();
      }
      i = end;
      continue;
    }
    out += text[i++];
  }
  return out;
}

}  // namespace

std::string redact_store_spec(const std::string& spec) {
  std::string out = spec;
  const std::size_t slashes = out.find("://");
  if (slashes != std::string::npos && !detail::scheme_of(out).empty()) {
    const std::size_t begin = slashes + 3;
    const std::size_t end = std::min(out.find_first_of("/?#", begin), out.size());
    // The user part ends at the last `@` of the authority (a password may hold a raw `@`).
    const std::size_t at = out.rfind('@', end == 0 ? 0 : end - 1);
    if (at != std::string::npos && at >= begin) {
      const std::size_t colon = out.find(':', begin);
      if (colon < at) out.erase(colon, at - colon);
    }
  }
  return without_password_parameters(out);
}

}  // namespace eda::sourcing
