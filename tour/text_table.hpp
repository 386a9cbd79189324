/// @file text_table.hpp
/// @brief A plain-text table for the terminal: columns of limited width, cells of several
///        lines, long lines wrapped at spaces.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace eda::tour {

/// @brief A cell: one or more lines (each wrapped to the column's width when printed).
using Cell = std::vector<std::string>;

/// @brief A table printed with ASCII rules, e.g.
/// ```
/// +--------------+----------+
/// | measured     | pattern  |
/// +--------------+----------+
/// | label p50    | 0.83us   |
/// +--------------+----------+
/// ```
class TextTable {
 public:
  /// @brief A table with these column headings; `max_widths[i]` caps column i (0: no cap).
  TextTable(std::vector<std::string> headings, std::vector<std::size_t> max_widths = {});

  /// @brief Adds a row of one-line cells (missing cells are left empty).
  void add_row(const std::vector<std::string>& cells);

  /// @brief Adds a row whose cells may hold several lines.
  void add_row(std::vector<Cell> cells);

  /// @brief Prints the table, each line starting with `indent`.
  void print(std::ostream& out, const std::string& indent = "") const;

 private:
  std::vector<std::string> headings_;
  std::vector<std::size_t> max_widths_;
  std::vector<std::vector<Cell>> rows_;
};

/// @brief `text` cut into lines of at most `width` characters at spaces (a word longer than
///        `width` gets a line of its own); continuation lines start with two spaces, so a
///        wrapped line reads apart from the next line of the cell.
std::vector<std::string> wrap(const std::string& text, std::size_t width);

}  // namespace eda::tour
