#include "text_table.hpp"

#include <algorithm>
#include <sstream>
#include <string_view>

namespace eda::tour {

namespace {

/// Whether `word` is the rest of a number whose thousands are grouped with spaces (`000` or
/// `500/s` after `10` or `1 000`), given the word before it.
bool continues_number(const std::string& previous, const std::string& word) {
  const auto digits = [](std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  // The last group of the word before (after its last space; npos + 1 is 0, the whole word):
  // 1 to 3 digits and nothing else.
  const std::string_view group = std::string_view(previous).substr(previous.find_last_of(' ') + 1);
  return !group.empty() && group.size() <= 3 && digits(group) && word.size() >= 3 &&
         digits(std::string_view(word).substr(0, 3)) &&
         (word.size() == 3 || !digits(word.substr(3, 1)));
}

/// The words of `text`, split at spaces, except that `10 000` stays one word: a number is
/// never cut in two at a line's end.
std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string word; in >> word;) {
    if (!words.empty() && continues_number(words.back(), word)) {
      words.back() += " " + word;
    } else {
      words.push_back(word);
    }
  }
  return words;
}

}  // namespace

std::vector<std::string> wrap(const std::string& text, std::size_t width) {
  std::vector<std::string> lines;
  std::string line;
  for (const std::string& word : words_of(text)) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(line);
      line = "  ";  // continuation
    }
    if (!line.empty() && line != "  ") line += ' ';
    line += word;
  }
  if (!line.empty() || lines.empty()) lines.push_back(line);
  return lines;
}

TextTable::TextTable(std::vector<std::string> headings, std::vector<std::size_t> max_widths)
    : headings_(std::move(headings)), max_widths_(std::move(max_widths)) {
  max_widths_.resize(headings_.size(), 0);
}

void TextTable::add_row(const std::vector<std::string>& cells) {
  std::vector<Cell> row;
  for (const std::string& text : cells) row.push_back(Cell{text});
  add_row(std::move(row));
}

void TextTable::add_row(std::vector<Cell> cells) {
  cells.resize(headings_.size());
  rows_.push_back(std::move(cells));
}

void TextTable::print(std::ostream& out, const std::string& indent) const {
  const std::size_t columns = headings_.size();
  // Wrap every cell first: the widths come from the wrapped lines.
  const auto wrapped = [&](const Cell& cell, std::size_t column) {
    std::vector<std::string> lines;
    for (const std::string& line : cell) {
      if (max_widths_[column] == 0) {
        lines.push_back(line);
      } else {
        for (std::string& part : wrap(line, max_widths_[column])) lines.push_back(std::move(part));
      }
    }
    return lines;
  };
  std::vector<std::vector<std::vector<std::string>>> body;
  body.push_back({});
  for (std::size_t c = 0; c < columns; ++c) body.back().push_back(wrapped(Cell{headings_[c]}, c));
  for (const auto& row : rows_) {
    body.push_back({});
    for (std::size_t c = 0; c < columns; ++c) body.back().push_back(wrapped(row[c], c));
  }
  std::vector<std::size_t> widths(columns, 0);
  for (const auto& row : body) {
    for (std::size_t c = 0; c < columns; ++c) {
      for (const std::string& line : row[c]) widths[c] = std::max(widths[c], line.size());
    }
  }

  const auto rule = [&] {
    out << indent << '+';
    for (const std::size_t width : widths) out << std::string(width + 2, '-') << '+';
    out << '\n';
  };
  rule();
  for (std::size_t r = 0; r < body.size(); ++r) {
    std::size_t height = 1;
    for (const auto& cell : body[r]) height = std::max(height, cell.size());
    for (std::size_t line = 0; line < height; ++line) {
      out << indent << '|';
      for (std::size_t c = 0; c < columns; ++c) {
        const std::string text = line < body[r][c].size() ? body[r][c][line] : "";
        out << ' ' << text << std::string(widths[c] - text.size(), ' ') << " |";
      }
      out << '\n';
    }
    rule();  // under the headings, and between rows: multi-line rows stay apart
  }
}

}  // namespace eda::tour
