// dim_expr: a small recursive-descent evaluator for symbolic dim expressions.
#include "dim_expr.h"

#include <cctype>
#include <stdexcept>

namespace kiln::cli {
namespace {

bool symbol_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool symbol_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// expr := term (('+' | '-') term)* ; term := factor ('*' factor)* ;
// factor := integer | symbol | '(' expr ')' | '-' factor
class Evaluator {
 public:
  Evaluator(const std::string& text, const std::map<std::string, int64_t>& symbols)
      : text_(text), symbols_(symbols) {}

  std::optional<int64_t> run() {
    std::optional<int64_t> value = expr();
    skip_space();
    if (pos_ != text_.size()) fail("unexpected '" + std::string(1, text_[pos_]) + "'");
    return value;
  }

 private:
  void skip_space() {
    while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error("cannot evaluate dim expression '" + text_ + "': " + why);
  }
  std::optional<int64_t> combine(std::optional<int64_t> a, std::optional<int64_t> b, char op) {
    if (!a || !b) return std::nullopt;
    int64_t out = 0;
    const bool overflow = op == '+'   ? __builtin_add_overflow(*a, *b, &out)
                          : op == '-' ? __builtin_sub_overflow(*a, *b, &out)
                                      : __builtin_mul_overflow(*a, *b, &out);
    if (overflow) fail("overflow");
    return out;
  }

  std::optional<int64_t> expr() {
    std::optional<int64_t> value = term();
    for (;;) {
      if (accept('+')) {
        value = combine(value, term(), '+');
      } else if (accept('-')) {
        value = combine(value, term(), '-');
      } else {
        return value;
      }
    }
  }
  std::optional<int64_t> term() {
    std::optional<int64_t> value = factor();
    while (accept('*')) value = combine(value, factor(), '*');
    return value;
  }
  std::optional<int64_t> factor() {
    if (accept('(')) {
      std::optional<int64_t> value = expr();
      if (!accept(')')) fail("missing ')'");
      return value;
    }
    if (accept('-')) return combine(int64_t{0}, factor(), '-');
    skip_space();
    if (pos_ >= text_.size()) fail("unexpected end");
    if (std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      int64_t value = 0;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
        if (__builtin_mul_overflow(value, 10, &value) ||
            __builtin_add_overflow(value, text_[pos_] - '0', &value)) {
          fail("overflow");
        }
        ++pos_;
      }
      return value;
    }
    if (symbol_start(text_[pos_])) {
      const size_t start = pos_;
      while (pos_ < text_.size() && symbol_char(text_[pos_])) ++pos_;
      const auto it = symbols_.find(text_.substr(start, pos_ - start));
      if (it == symbols_.end()) return std::nullopt;
      return it->second;
    }
    fail("unexpected '" + std::string(1, text_[pos_]) + "'");
  }

  const std::string& text_;
  const std::map<std::string, int64_t>& symbols_;
  size_t pos_ = 0;
};

}  // namespace

bool is_symbol_name(const std::string& text) {
  if (text.empty() || !symbol_start(text[0])) return false;
  for (char c : text) {
    if (!symbol_char(c)) return false;
  }
  return true;
}

std::vector<std::string> dim_symbols(const std::string& expr) {
  std::vector<std::string> out;
  for (size_t i = 0; i < expr.size();) {
    if (symbol_start(expr[i])) {
      const size_t start = i;
      while (i < expr.size() && symbol_char(expr[i])) ++i;
      const std::string name = expr.substr(start, i - start);
      bool seen = false;
      for (const std::string& s : out) seen = seen || s == name;
      if (!seen) out.push_back(name);
    } else if (std::isdigit(static_cast<unsigned char>(expr[i]))) {
      while (i < expr.size() && symbol_char(expr[i])) ++i;  // a number (never a symbol)
    } else {
      ++i;
    }
  }
  return out;
}

std::optional<int64_t> evaluate_dim(const std::string& expr,
                                    const std::map<std::string, int64_t>& symbols) {
  return Evaluator(expr, symbols).run();
}

}  // namespace kiln::cli
