// dim_expr: the symbolic dims of tensor types ("batch", "2*seq+1"): their symbols and their value
// once the symbols are known.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kiln::cli {

// True for a plain symbol name: [A-Za-z_][A-Za-z0-9_]*.
bool is_symbol_name(const std::string& text);
// The symbol names an expression uses, in order of first appearance.
std::vector<std::string> dim_symbols(const std::string& expr);
// The value of an expression of integers, symbols, + - * and parentheses; nullopt when a symbol
// has no value. Throws std::runtime_error for a malformed expression or an overflow.
std::optional<int64_t> evaluate_dim(const std::string& expr,
                                    const std::map<std::string, int64_t>& symbols);

}  // namespace kiln::cli
