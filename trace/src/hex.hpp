// Private to eda::trace: bytes as lowercase hexadecimal and back (the capture file's frames).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace eda::trace::detail {

/// `bytes` as lowercase hexadecimal, two digits per byte.
std::string to_hex(std::string_view bytes);

/// Where `hex` stops being valid hexadecimal (the offset of the first bad character, or its
/// size when it has an odd length); empty when it is valid. On success `out` holds the bytes.
std::optional<std::size_t> from_hex(std::string_view hex, std::string& out);

}  // namespace eda::trace::detail
