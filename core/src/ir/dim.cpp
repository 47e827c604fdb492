// Dim as a canonical polynomial: arithmetic (checked and wrapping), parsing, printing, division.
#include "ir/dim.h"

#include <algorithm>
#include <cctype>
#include <iterator>

#include "ir/checked_math.h"
#include "ir/limits.h"

namespace kiln {
namespace {

using Monomial = std::vector<std::string>;

// The monomial order used for printing and division: higher degree first, then the
// lexicographically smaller symbol list first ("a*b" before "b*b"). This is graded
// lexicographic order, so it is compatible with multiplication, which division relies on.
bool monomial_before(const Monomial& a, const Monomial& b) {
  if (a.size() != b.size()) return a.size() > b.size();
  return a < b;
}

Monomial merge_monomials(const Monomial& a, const Monomial& b) {
  Monomial out;
  out.reserve(a.size() + b.size());
  std::merge(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

int64_t wrapping_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

int64_t wrapping_mul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

Status overflow_error(const Dim& a, const char* op, const Dim& b) {
  return out_of_range("dim arithmetic overflows int64: (" + a.to_string() + ") " + op + " (" +
                      b.to_string() + ")");
}

}  // namespace

Dim::Dim(int64_t value) {
  if (value != 0) terms_[{}] = value;
}

Dim Dim::symbol(std::string name) {
  Dim d;
  d.terms_[{std::move(name)}] = 1;
  return d;
}

void Dim::normalize() {
  for (auto it = terms_.begin(); it != terms_.end();) {
    it = it->second == 0 ? terms_.erase(it) : std::next(it);
  }
}

bool Dim::is_static() const {
  return terms_.empty() || (terms_.size() == 1 && terms_.begin()->first.empty());
}

int64_t Dim::value() const { return terms_.empty() ? 0 : terms_.begin()->second; }

std::string Dim::to_string() const {
  if (terms_.empty()) return "0";
  std::vector<const std::pair<const Monomial, int64_t>*> order;
  for (const auto& term : terms_) order.push_back(&term);
  std::sort(order.begin(), order.end(),
            [](const auto* a, const auto* b) { return monomial_before(a->first, b->first); });
  std::string out;
  for (const auto* term : order) {
    const int64_t c = term->second;
    // Magnitude as unsigned so INT64_MIN prints correctly.
    const uint64_t magnitude = c < 0 ? uint64_t(0) - static_cast<uint64_t>(c) : uint64_t(c);
    if (out.empty()) {
      if (c < 0) out += "-";
    } else {
      out += c < 0 ? " - " : " + ";
    }
    const Monomial& m = term->first;
    if (m.empty() || magnitude != 1) out += std::to_string(magnitude);
    for (size_t i = 0; i < m.size(); ++i) {
      if (i > 0 || magnitude != 1) out += "*";
      out += m[i];
    }
  }
  return out;
}

std::vector<std::string> Dim::symbols() const {
  std::vector<std::string> names;
  for (const auto& [m, c] : terms_) names.insert(names.end(), m.begin(), m.end());
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::optional<int64_t> Dim::evaluate(const std::map<std::string, int64_t>& bindings) const {
  int64_t total = 0;
  for (const auto& [m, c] : terms_) {
    std::optional<int64_t> term = c;
    for (const std::string& name : m) {
      auto it = bindings.find(name);
      if (it == bindings.end()) return std::nullopt;
      term = checked_mul(*term, it->second);
      if (!term) return std::nullopt;
    }
    auto sum = checked_add(total, *term);
    if (!sum) return std::nullopt;
    total = *sum;
  }
  return total;
}

// ---- Arithmetic ------------------------------------------------------------------------------

Dim operator+(const Dim& a, const Dim& b) {
  Dim out = a;
  for (const auto& [m, c] : b.terms_) out.terms_[m] = wrapping_add(out.terms_[m], c);
  out.normalize();
  return out;
}

Dim operator-(const Dim& a, const Dim& b) { return a + b * Dim(-1); }

Dim operator*(const Dim& a, const Dim& b) {
  Dim out;
  for (const auto& [ma, ca] : a.terms_) {
    for (const auto& [mb, cb] : b.terms_) {
      int64_t& slot = out.terms_[merge_monomials(ma, mb)];
      slot = wrapping_add(slot, wrapping_mul(ca, cb));
    }
  }
  out.normalize();
  return out;
}

StatusOr<Dim> dim_add(const Dim& a, const Dim& b) {
  Dim out = a;
  for (const auto& [m, c] : b.terms_) {
    auto sum = checked_add(out.terms_[m], c);
    if (!sum) return overflow_error(a, "+", b);
    out.terms_[m] = *sum;
  }
  out.normalize();
  if (out.terms_.size() > kMaxDimTerms) {
    return out_of_range("dim expression has more than " + std::to_string(kMaxDimTerms) +
                        " terms: (" + a.to_string() + ") + (" + b.to_string() + ")");
  }
  return out;
}

StatusOr<Dim> dim_sub(const Dim& a, const Dim& b) {
  Dim negated;
  for (const auto& [m, c] : b.terms_) {
    auto n = checked_mul(c, -1);
    if (!n) return overflow_error(a, "-", b);
    negated.terms_[m] = *n;
  }
  auto out = dim_add(a, negated);
  if (!out.is_ok()) return overflow_error(a, "-", b);
  return out;
}

StatusOr<Dim> dim_mul(const Dim& a, const Dim& b) {
  // Checked before the work so a hostile product cannot take time or memory.
  if (a.terms_.size() * b.terms_.size() > kMaxDimTerms * kMaxDimTerms) {
    return out_of_range("dim expression too complex: (" + a.to_string() + ") * (" + b.to_string() +
                        ")");
  }
  Dim out;
  for (const auto& [ma, ca] : a.terms_) {
    for (const auto& [mb, cb] : b.terms_) {
      if (ma.size() + mb.size() > kMaxDimDegree) {
        return out_of_range("dim expression has a term of degree over " +
                            std::to_string(kMaxDimDegree) + ": (" + a.to_string() + ") * (" +
                            b.to_string() + ")");
      }
      auto product = checked_mul(ca, cb);
      if (!product) return overflow_error(a, "*", b);
      int64_t& slot = out.terms_[merge_monomials(ma, mb)];
      auto sum = checked_add(slot, *product);
      if (!sum) return overflow_error(a, "*", b);
      slot = *sum;
    }
  }
  out.normalize();
  if (out.terms_.size() > kMaxDimTerms) {
    return out_of_range("dim expression has more than " + std::to_string(kMaxDimTerms) +
                        " terms: (" + a.to_string() + ") * (" + b.to_string() + ")");
  }
  return out;
}

bool operator==(const Dim& a, const Dim& b) { return a.terms_ == b.terms_; }

// Division of one polynomial by another, leading term by leading term. With a single divisor the
// remainder is zero exactly when the division is exact, and the quotient is then unique; integer
// coefficients must also divide exactly. Every intermediate step is overflow-checked.
std::optional<Dim> Dim::divide_exact(const Dim& divisor) const {
  if (divisor.terms_.empty()) return std::nullopt;  // division by zero
  auto leading = [](const Dim& d) {
    auto best = d.terms_.begin();
    for (auto it = d.terms_.begin(); it != d.terms_.end(); ++it) {
      if (monomial_before(it->first, best->first)) best = it;
    }
    return best;
  };
  const auto divisor_lead = leading(divisor);
  Dim quotient;
  Dim remainder = *this;
  // Each step removes the remainder's leading term; the bound only guards against pathological
  // inputs (it is far above what kMaxDimTerms allows in practice).
  for (int step = 0; step < 4096; ++step) {
    if (remainder.terms_.empty()) return quotient;
    const auto lead = leading(remainder);
    const Monomial& lm = lead->first;
    const Monomial& dm = divisor_lead->first;
    if (!std::includes(lm.begin(), lm.end(), dm.begin(), dm.end())) return std::nullopt;
    const int64_t lc = lead->second;
    const int64_t dc = divisor_lead->second;
    if (dc == -1 && lc == INT64_MIN) return std::nullopt;
    if (lc % dc != 0) return std::nullopt;
    Dim term;
    Monomial rest;
    std::set_difference(lm.begin(), lm.end(), dm.begin(), dm.end(), std::back_inserter(rest));
    term.terms_[rest] = lc / dc;
    auto next_quotient = dim_add(quotient, term);
    if (!next_quotient.is_ok()) return std::nullopt;
    auto product = dim_mul(term, divisor);
    if (!product.is_ok()) return std::nullopt;
    auto next_remainder = dim_sub(remainder, *product);
    if (!next_remainder.is_ok()) return std::nullopt;
    quotient = std::move(next_quotient).value();
    remainder = std::move(next_remainder).value();
  }
  return std::nullopt;
}

// ---- Parsing ---------------------------------------------------------------------------------

namespace {

// Recursive descent over:  expr := term (('+' | '-') term)*
//                          term := unary ('*' unary)*
//                          unary := '-' unary | integer | name | '(' expr ')'
// A '-' is folded into the integer literal it precedes, so that "-9223372036854775808" (which
// to_string prints for the smallest coefficient) parses back.
class DimParser {
 public:
  explicit DimParser(std::string_view text) : text_(text) {}

  StatusOr<Dim> parse() {
    skip_space();
    if (pos_ == text_.size()) return error("empty expression");
    KILN_ASSIGN_OR_RETURN(Dim d, parse_expr(0));
    skip_space();
    if (pos_ != text_.size()) return error(std::string("unexpected '") + text_[pos_] + "'");
    return d;
  }

 private:
  Status error(const std::string& what) const {
    return invalid_argument("bad dim expression '" + std::string(text_) + "': " + what +
                            " at position " + std::to_string(pos_));
  }
  Status wrap(const Status& s) const {
    return invalid_argument("bad dim expression '" + std::string(text_) + "': " + s.message());
  }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  StatusOr<Dim> parse_expr(int depth) {
    KILN_ASSIGN_OR_RETURN(Dim total, parse_term(depth, false));
    while (true) {
      bool plus = accept('+');
      if (!plus && !accept('-')) return total;
      KILN_ASSIGN_OR_RETURN(Dim rhs, parse_term(depth, !plus));
      auto sum = dim_add(total, rhs);
      if (!sum.is_ok()) return wrap(sum.status());
      total = std::move(sum).value();
    }
  }

  StatusOr<Dim> parse_term(int depth, bool negate) {
    KILN_ASSIGN_OR_RETURN(Dim product, parse_unary(depth, negate));
    while (accept('*')) {
      KILN_ASSIGN_OR_RETURN(Dim rhs, parse_unary(depth, false));
      auto next = dim_mul(product, rhs);
      if (!next.is_ok()) return wrap(next.status());
      product = std::move(next).value();
    }
    return product;
  }

  StatusOr<Dim> parse_unary(int depth, bool negate) {
    // Every nesting path goes through here, so one depth check bounds the recursion.
    if (depth > kMaxDimExprDepth)
      return error("nesting deeper than " + std::to_string(kMaxDimExprDepth));
    skip_space();
    if (pos_ == text_.size()) return error("expected a name, an integer or '('");
    const char c = text_[pos_];
    if (c == '-') {
      ++pos_;
      return parse_unary(depth + 1, !negate);
    }
    if (std::isdigit(static_cast<unsigned char>(c))) return parse_integer(negate);
    Dim d;
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      const size_t start = pos_;
      while (pos_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
        ++pos_;
      }
      d = Dim::symbol(std::string(text_.substr(start, pos_ - start)));
    } else if (c == '(') {
      ++pos_;
      KILN_ASSIGN_OR_RETURN(d, parse_expr(depth + 1));
      if (!accept(')')) return error("expected ')'");
    } else {
      return error(std::string("unexpected '") + c + "'");
    }
    if (!negate) return d;
    auto negated = dim_mul(d, Dim(-1));
    if (!negated.is_ok()) return wrap(negated.status());
    return negated;
  }

  StatusOr<Dim> parse_integer(bool negate) {
    const size_t start = pos_;
    // Accumulate the magnitude in uint64 so -2^63 is representable.
    const uint64_t limit = negate ? uint64_t(1) << 63 : (uint64_t(1) << 63) - 1;
    uint64_t magnitude = 0;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      const uint64_t digit = static_cast<uint64_t>(text_[pos_] - '0');
      if (magnitude > (limit - digit) / 10) {
        pos_ = start;
        return error("integer overflows int64");
      }
      magnitude = magnitude * 10 + digit;
      ++pos_;
    }
    return Dim(negate ? static_cast<int64_t>(uint64_t(0) - magnitude)
                      : static_cast<int64_t>(magnitude));
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

StatusOr<Dim> Dim::parse(std::string_view text) {
  if (text.size() > kMaxDimExprLength) {
    return invalid_argument("bad dim expression: longer than " + std::to_string(kMaxDimExprLength) +
                            " characters");
  }
  return DimParser(text).parse();
}

// ---- Shapes ----------------------------------------------------------------------------------

std::string shape_to_string(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += shape[i].to_string();
  }
  return out + "]";
}

Dim shape_num_elements(const Shape& shape) {
  Dim total(1);
  for (const Dim& d : shape) total = total * d;
  return total;
}

StatusOr<Dim> checked_num_elements(const Shape& shape) {
  Dim total(1);
  for (const Dim& d : shape) {
    auto next = dim_mul(total, d);
    if (!next.is_ok()) {
      return out_of_range("element count of shape " + shape_to_string(shape) +
                          " overflows: " + next.status().message());
    }
    total = std::move(next).value();
  }
  return total;
}

}  // namespace kiln
