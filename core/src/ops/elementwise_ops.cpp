// Elementwise op schemas: binary arithmetic, comparisons and logic (numpy broadcasting), unary
// math and predicates, gelu, cast and where.
#include "ops/op_table.h"

namespace kiln {
namespace {

// Both operands of one dtype, broadcast together.
StatusOr<std::vector<TensorType>> infer_binary(const OpContext& ctx, DType out_dtype) {
  KILN_RETURN_IF_ERROR(ctx.check_dtype(0, ctx.schema.dtypes));
  KILN_RETURN_IF_ERROR(ctx.check_same_dtype(0, 1));
  KILN_ASSIGN_OR_RETURN(Shape shape, ctx.broadcast({0, 1}));
  return single_output(out_dtype, std::move(shape));
}

StatusOr<std::vector<TensorType>> infer_arithmetic(const OpContext& ctx) {
  return infer_binary(ctx, ctx.input(0).dtype);
}

StatusOr<std::vector<TensorType>> infer_comparison(const OpContext& ctx) {
  return infer_binary(ctx, DType::kBool);
}

// max/min: elementwise with two inputs, a reduction along `axis` with one (MAX's overload).
StatusOr<std::vector<TensorType>> infer_max_min(const OpContext& ctx) {
  if (ctx.inputs.size() == 1) return infer_reduction(ctx);
  return infer_arithmetic(ctx);
}

// logical_and/or/xor: both operands bool.
StatusOr<std::vector<TensorType>> infer_logical(const OpContext& ctx) {
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    if (ctx.input(i).dtype != DType::kBool) {
      return ctx.error(ctx.operand(i) + " has dtype " + dtype_name(ctx.input(i).dtype) + "; " +
                       ctx.node.op + " needs bool operands");
    }
  }
  if (ctx.inputs.size() == 1) return single_output(DType::kBool, ctx.input(0).shape);
  KILN_ASSIGN_OR_RETURN(Shape shape, ctx.broadcast({0, 1}));
  return single_output(DType::kBool, std::move(shape));
}

// is_inf, is_nan: a float operand, a bool result of the same shape.
StatusOr<std::vector<TensorType>> infer_predicate(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(ctx.check_dtype(0, ctx.schema.dtypes));
  return single_output(DType::kBool, ctx.input(0).shape);
}

StatusOr<std::vector<TensorType>> infer_unary(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(ctx.check_dtype(0, ctx.schema.dtypes));
  return single_output(ctx.input(0).dtype, ctx.input(0).shape);
}

StatusOr<std::vector<TensorType>> infer_gelu(const OpContext& ctx) {
  KILN_ASSIGN_OR_RETURN(std::string mode, get_string_attr(ctx.node, "approximate", "none"));
  if (mode != "none" && mode != "tanh") {
    return ctx.error("attribute 'approximate' is '" + mode + "'; it must be 'none' or 'tanh'");
  }
  return infer_unary(ctx);
}

StatusOr<std::vector<TensorType>> infer_cast(const OpContext& ctx) {
  KILN_ASSIGN_OR_RETURN(DType to, get_dtype_attr(ctx.node, "dtype"));
  return single_output(to, ctx.input(0).shape);
}

StatusOr<std::vector<TensorType>> infer_where(const OpContext& ctx) {
  if (ctx.input(0).dtype != DType::kBool) {
    return ctx.error(ctx.operand(0) + " has dtype " + dtype_name(ctx.input(0).dtype) +
                     "; where needs a bool condition");
  }
  KILN_RETURN_IF_ERROR(ctx.check_same_dtype(1, 2));
  KILN_ASSIGN_OR_RETURN(Shape shape, ctx.broadcast({0, 1, 2}));
  return single_output(ctx.input(1).dtype, std::move(shape));
}

}  // namespace

void add_elementwise_schemas(std::vector<OpSchema>& out) {
  for (const char* op : {"add", "sub", "mul", "div", "pow", "mod"}) {
    out.push_back({op, 2, 2, {"lhs", "rhs"}, {}, DtypeClass::kNumeric, infer_arithmetic});
  }
  for (const char* op : {"max", "min"}) {
    out.push_back({op, 1, 2, {"x", "y"}, {"axis"}, DtypeClass::kNumeric, infer_max_min});
  }
  out.push_back({"equal", 2, 2, {"lhs", "rhs"}, {}, DtypeClass::kNumericOrBool, infer_comparison});
  out.push_back(
      {"not_equal", 2, 2, {"lhs", "rhs"}, {}, DtypeClass::kNumericOrBool, infer_comparison});
  for (const char* op : {"greater", "greater_equal"}) {
    out.push_back({op, 2, 2, {"lhs", "rhs"}, {}, DtypeClass::kNumeric, infer_comparison});
  }
  for (const char* op : {"logical_and", "logical_or", "logical_xor"}) {
    out.push_back({op, 2, 2, {"lhs", "rhs"}, {}, DtypeClass::kAny, infer_logical});
  }
  out.push_back({"logical_not", 1, 1, {"x"}, {}, DtypeClass::kAny, infer_logical});
  // Rounding is the identity on integers, so those accept every numeric dtype.
  for (const char* op : {"negate", "abs", "relu", "floor", "round", "trunc"}) {
    out.push_back({op, 1, 1, {"x"}, {}, DtypeClass::kNumeric, infer_unary});
  }
  for (const char* op : {"exp", "log", "sqrt", "rsqrt", "sigmoid", "tanh", "silu", "atanh", "cos",
                         "sin", "erf", "log1p"}) {
    out.push_back({op, 1, 1, {"x"}, {}, DtypeClass::kFloat, infer_unary});
  }
  for (const char* op : {"is_inf", "is_nan"}) {
    out.push_back({op, 1, 1, {"x"}, {}, DtypeClass::kFloat, infer_predicate});
  }
  out.push_back({"gelu", 1, 1, {"x"}, {"approximate"}, DtypeClass::kFloat, infer_gelu});
  out.push_back({"cast", 1, 1, {"x"}, {"dtype"}, DtypeClass::kAny, infer_cast});
  out.push_back({"where", 3, 3, {"condition", "x", "y"}, {}, DtypeClass::kAny, infer_where});
}

}  // namespace kiln
