// Dim: a tensor dimension that is static (an integer) or symbolic/algebraic (a polynomial in
// named symbols with integer coefficients: "batch", "2*batch", "batch*seq", "seq+1").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kiln {

class Dim {
 public:
  Dim() : Dim(0) {}
  Dim(int64_t value);  // NOLINT: a static dim converts implicitly
  static Dim symbol(std::string name);
  // Parses a name, an integer or an expression of them with + - * and parentheses.
  static StatusOr<Dim> parse(std::string_view text);

  bool is_static() const;
  // The static value; only valid if is_static().
  int64_t value() const;
  // Canonical text: "batch", "2*batch", "batch*seq + 1". Equal dims print equally.
  std::string to_string() const;
  // Names of the symbols it mentions, sorted.
  std::vector<std::string> symbols() const;
  // Value once symbols are bound; nullopt if a symbol is unbound or the result overflows.
  std::optional<int64_t> evaluate(const std::map<std::string, int64_t>& bindings) const;

  friend Dim operator+(const Dim& a, const Dim& b);
  friend Dim operator-(const Dim& a, const Dim& b);
  friend Dim operator*(const Dim& a, const Dim& b);
  // Exact division (reshape with -1): nullopt when not exactly divisible.
  std::optional<Dim> divide_exact(const Dim& divisor) const;
  friend bool operator==(const Dim& a, const Dim& b);
  friend bool operator!=(const Dim& a, const Dim& b) { return !(a == b); }

  // Overflow-checked + - *: an error when a coefficient overflows int64 or the polynomial grows
  // past kMaxDimTerms terms or kMaxDimDegree (ir/limits.h). The operators above wrap around
  // instead (defined, never UB) and have no size limit: use them only on trusted dims.
  friend StatusOr<Dim> dim_add(const Dim& a, const Dim& b);
  friend StatusOr<Dim> dim_sub(const Dim& a, const Dim& b);
  friend StatusOr<Dim> dim_mul(const Dim& a, const Dim& b);

 private:
  // Monomial (sorted symbol names with repetition; empty = constant term) -> coefficient.
  std::map<std::vector<std::string>, int64_t> terms_;
  void normalize();
};

StatusOr<Dim> dim_add(const Dim& a, const Dim& b);
StatusOr<Dim> dim_sub(const Dim& a, const Dim& b);
StatusOr<Dim> dim_mul(const Dim& a, const Dim& b);

using Shape = std::vector<Dim>;

std::string shape_to_string(const Shape& shape);  // "[batch, 128]"
// Product of dims (symbolic if any dim is).
Dim shape_num_elements(const Shape& shape);
// The same, overflow-checked (see dim_mul).
StatusOr<Dim> checked_num_elements(const Shape& shape);

}  // namespace kiln
