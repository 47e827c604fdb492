// Limits that keep untrusted graphs (files, C ABI callers) from exhausting time or memory.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiln {

// Rank of any tensor type. MAX has no stated limit; 64 is far above any real model.
inline constexpr size_t kMaxRank = 64;
// Length of one dim expression's text ("2*batch + 1").
inline constexpr size_t kMaxDimExprLength = 1024;
// Nesting of parentheses in a dim expression.
inline constexpr int kMaxDimExprDepth = 64;
// Terms of a dim polynomial; products of sums grow combinatorially, so this is enforced on
// every multiplication, not only when parsing.
inline constexpr size_t kMaxDimTerms = 64;
// Degree of one monomial (batch*batch*... ).
inline constexpr size_t kMaxDimDegree = 16;

}  // namespace kiln
