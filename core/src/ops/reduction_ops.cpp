// Reduction op schemas: sum, mean, max and min (one input), argmax. MAX keeps the reduced axis
// with size 1, so the rank never changes.
#include "ops/op_table.h"

namespace kiln {

StatusOr<std::vector<TensorType>> infer_reduction(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(ctx.check_dtype(0, ctx.schema.dtypes));
  KILN_RETURN_IF_ERROR(ctx.check_min_rank(0, 1));
  KILN_ASSIGN_OR_RETURN(int64_t axis_attr, get_int_attr(ctx.node, "axis", -1));
  Shape shape = ctx.input(0).shape;
  KILN_ASSIGN_OR_RETURN(size_t axis,
                        ctx.normalize_axis(axis_attr, shape.size(), "attribute 'axis'"));
  shape[axis] = Dim(1);
  const DType dtype = ctx.node.op == "argmax" ? DType::kInt64 : ctx.input(0).dtype;
  return single_output(dtype, std::move(shape));
}

void add_reduction_schemas(std::vector<OpSchema>& out) {
  for (const char* op : {"sum", "mean", "argmax"}) {
    out.push_back({op, 1, 1, {"x"}, {"axis"}, DtypeClass::kNumeric, infer_reduction});
  }
  // max and min are registered with the elementwise ops, which dispatch here for one input.
}

}  // namespace kiln
