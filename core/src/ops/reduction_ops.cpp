// Reduction op schemas: sum, mean, max and min (one input), argmax, argmin — MAX keeps the reduced
// axis with size 1, so the rank never changes — and the ops that keep or reorder an axis: cumsum,
// logsoftmax, top_k and argsort.
#include "ops/op_table.h"

namespace kiln {
namespace {

StatusOr<size_t> axis_attr(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(ctx.check_min_rank(0, 1));
  KILN_ASSIGN_OR_RETURN(int64_t axis, get_int_attr(ctx.node, "axis", -1));
  return ctx.normalize_axis(axis, ctx.input(0).shape.size(), "attribute 'axis'");
}

// cumsum and logsoftmax: same type out as in.
StatusOr<std::vector<TensorType>> infer_scan(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(ctx.check_dtype(0, ctx.schema.dtypes));
  KILN_RETURN_IF_ERROR(axis_attr(ctx).status());
  if (ctx.node.op == "cumsum") {
    for (const char* flag : {"exclusive", "reverse"}) {
      KILN_RETURN_IF_ERROR(get_flag_attr(ctx, flag, false).status());
    }
  }
  return single_output(ctx.input(0).dtype, ctx.input(0).shape);
}

// top_k: the k largest along `axis`, as values and int64 indices.
StatusOr<std::vector<TensorType>> infer_top_k(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(ctx.check_dtype(0, ctx.schema.dtypes));
  KILN_ASSIGN_OR_RETURN(size_t axis, axis_attr(ctx));
  KILN_ASSIGN_OR_RETURN(int64_t k, get_int_attr(ctx.node, "k"));
  Shape shape = ctx.input(0).shape;
  if (k < 0) return ctx.error("attribute 'k' is " + std::to_string(k) + "; it must be >= 0");
  // A symbolic axis is checked by the kernel, against the actual size.
  if (shape[axis].is_static() && k > shape[axis].value()) {
    return ctx.error("attribute 'k' is " + std::to_string(k) + " but axis " + std::to_string(axis) +
                     " of " + ctx.operand(0) + " shape " + shape_to_string(shape) + " has only " +
                     shape[axis].to_string() + " elements");
  }
  shape[axis] = Dim(k);
  std::vector<TensorType> out(2);
  out[0].dtype = ctx.input(0).dtype;
  out[0].shape = shape;
  out[1].dtype = DType::kInt64;
  out[1].shape = std::move(shape);
  return out;
}

// argsort: int64 indices sorting along the first axis (MAX's definition).
StatusOr<std::vector<TensorType>> infer_argsort(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(ctx.check_dtype(0, ctx.schema.dtypes));
  KILN_RETURN_IF_ERROR(ctx.check_min_rank(0, 1));
  KILN_RETURN_IF_ERROR(get_flag_attr(ctx, "ascending", true).status());
  return single_output(DType::kInt64, ctx.input(0).shape);
}

}  // namespace

StatusOr<std::vector<TensorType>> infer_reduction(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(ctx.check_dtype(0, ctx.schema.dtypes));
  KILN_RETURN_IF_ERROR(ctx.check_min_rank(0, 1));
  KILN_ASSIGN_OR_RETURN(int64_t axis_attr, get_int_attr(ctx.node, "axis", -1));
  Shape shape = ctx.input(0).shape;
  KILN_ASSIGN_OR_RETURN(size_t axis,
                        ctx.normalize_axis(axis_attr, shape.size(), "attribute 'axis'"));
  shape[axis] = Dim(1);
  const bool index = ctx.node.op == "argmax" || ctx.node.op == "argmin";
  const DType dtype = index ? DType::kInt64 : ctx.input(0).dtype;
  return single_output(dtype, std::move(shape));
}

void add_reduction_schemas(std::vector<OpSchema>& out) {
  for (const char* op : {"sum", "mean", "argmax", "argmin"}) {
    out.push_back({op, 1, 1, {"x"}, {"axis"}, DtypeClass::kNumeric, infer_reduction});
  }
  // max and min are registered with the elementwise ops, which dispatch here for one input.
  out.push_back(
      {"cumsum", 1, 1, {"x"}, {"axis", "exclusive", "reverse"}, DtypeClass::kNumeric, infer_scan});
  out.push_back({"logsoftmax", 1, 1, {"x"}, {"axis"}, DtypeClass::kFloat, infer_scan});
  out.push_back({"top_k", 1, 1, {"input"}, {"k", "axis"}, DtypeClass::kNumeric, infer_top_k});
  out.push_back({"argsort", 1, 1, {"x"}, {"ascending"}, DtypeClass::kNumeric, infer_argsort});
}

}  // namespace kiln
