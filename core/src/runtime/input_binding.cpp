// Input checks and symbol binding for execution.
#include "runtime/input_binding.h"

#include <optional>

namespace kiln {
namespace {

// The symbol name when `dim` is exactly one symbol ("batch"), else "".
std::string lone_symbol(const Dim& dim) {
  if (dim.is_static()) return "";
  const std::vector<std::string> symbols = dim.symbols();
  if (symbols.size() != 1 || !(dim == Dim::symbol(symbols[0]))) return "";
  return symbols[0];
}

struct Origin {
  size_t input;
  size_t dim;
};

std::string describe_input(const Graph& g, size_t i) {
  return "input " + std::to_string(i) + " '" + g.value(g.inputs[i]).name + "'";
}

}  // namespace

StatusOr<SymbolBindings> bind_input_symbols(const Graph& g, const kiln_tensor* const* inputs) {
  SymbolBindings bindings;
  std::map<std::string, Origin> origins;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const TensorType& type = g.value(g.inputs[i]).type;
    const kiln_tensor& t = *inputs[i];
    const std::string what = describe_input(g, i);
    if (t.dtype != type.dtype) {
      return invalid_argument(what + ": expected dtype " + dtype_name(type.dtype) + ", got " +
                              dtype_name(t.dtype));
    }
    if (t.shape.size() != type.shape.size()) {
      return invalid_argument(what + ": expected rank " + std::to_string(type.shape.size()) + " (" +
                              type.to_string() + "), got rank " + std::to_string(t.shape.size()));
    }
    for (size_t d = 0; d < type.shape.size(); ++d) {
      const Dim& dim = type.shape[d];
      const int64_t got = t.shape[d];
      if (dim.is_static()) {
        if (dim.value() != got) {
          return invalid_argument(what + ": dim " + std::to_string(d) + " must be " +
                                  std::to_string(dim.value()) + ", got " + std::to_string(got));
        }
        continue;
      }
      const std::string symbol = lone_symbol(dim);
      if (symbol.empty()) continue;  // an expression: checked once all symbols are bound
      auto [it, inserted] = bindings.emplace(symbol, got);
      if (inserted) {
        origins[symbol] = {i, d};
      } else if (it->second != got) {
        const Origin& o = origins[symbol];
        return invalid_argument(what + ": dim " + std::to_string(d) + " is '" + symbol +
                                "' = " + std::to_string(it->second) + " (from " +
                                describe_input(g, o.input) + " dim " + std::to_string(o.dim) +
                                "), got " + std::to_string(got));
      }
    }
  }
  // Dims given as expressions ("2*batch") must agree with the symbols bound above.
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const TensorType& type = g.value(g.inputs[i]).type;
    for (size_t d = 0; d < type.shape.size(); ++d) {
      const Dim& dim = type.shape[d];
      if (dim.is_static() || !lone_symbol(dim).empty()) continue;
      const std::string what =
          describe_input(g, i) + ": dim " + std::to_string(d) + " is '" + dim.to_string() + "'";
      for (const std::string& s : dim.symbols()) {
        if (bindings.count(s) == 0) {
          return invalid_argument(what + ", but no input dim is the symbol '" + s +
                                  "' alone, so it cannot be bound");
        }
      }
      const std::optional<int64_t> expected = dim.evaluate(bindings);
      if (!expected) return invalid_argument(what + ", which overflows int64");
      if (*expected != inputs[i]->shape[d]) {
        return invalid_argument(what + " = " + std::to_string(*expected) + ", got " +
                                std::to_string(inputs[i]->shape[d]));
      }
    }
  }
  return bindings;
}

StatusOr<std::optional<std::vector<int64_t>>> evaluate_shape(const TensorType& type,
                                                             const SymbolBindings& bindings,
                                                             const std::string& what) {
  std::vector<int64_t> shape;
  shape.reserve(type.shape.size());
  for (size_t d = 0; d < type.shape.size(); ++d) {
    const Dim& dim = type.shape[d];
    if (dim.is_static()) {
      shape.push_back(dim.value());
      continue;
    }
    for (const std::string& s : dim.symbols())
      if (bindings.count(s) == 0) return std::optional<std::vector<int64_t>>();
    const std::optional<int64_t> value = dim.evaluate(bindings);
    if (!value) {
      return invalid_argument(what + ": dim " + std::to_string(d) + " '" + dim.to_string() +
                              "' overflows int64 for these inputs");
    }
    if (*value < 0) {
      return invalid_argument(what + ": dim " + std::to_string(d) + " '" + dim.to_string() +
                              "' is " + std::to_string(*value) + " for these inputs");
    }
    shape.push_back(*value);
  }
  return std::optional<std::vector<int64_t>>(std::move(shape));
}

Status bind_output_symbols(const TensorType& type, const std::vector<int64_t>& shape,
                           SymbolBindings* bindings, const std::string& what) {
  for (size_t d = 0; d < type.shape.size(); ++d) {
    const std::string symbol = lone_symbol(type.shape[d]);
    if (!symbol.empty()) bindings->emplace(symbol, shape[d]);
  }
  KILN_ASSIGN_OR_RETURN(auto expected, evaluate_shape(type, *bindings, what));
  if (expected && *expected != shape) {
    std::string got;
    for (int64_t d : shape) got += (got.empty() ? "" : ", ") + std::to_string(d);
    return invalid_argument(what + ": the kernel set shape [" + got + "], which does not match " +
                            type.to_string());
  }
  return Status::ok();
}

}  // namespace kiln
