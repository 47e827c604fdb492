// nonzero (a data-dependent output shape) and transfer_to (placement).
#include "ops/op_table.h"

namespace kiln {
namespace {

// nonzero: int64 [out_dim, rank] of the indices of the nonzero elements in row-major order.
// `out_dim` names the count (a new symbol the kernel binds when it sets the output shape, or a
// static size the count must equal).
StatusOr<std::vector<TensorType>> infer_nonzero(const OpContext& ctx) {
  KILN_ASSIGN_OR_RETURN(std::string text, get_string_attr(ctx.node, "out_dim"));
  auto dim = Dim::parse(text);
  if (!dim.is_ok()) {
    return ctx.error("attribute 'out_dim' is '" + text + "': " + dim.status().message());
  }
  if (dim->is_static() && dim->value() < 0) {
    return ctx.error("attribute 'out_dim' is negative (" + text + ")");
  }
  const auto rank = static_cast<int64_t>(ctx.input(0).shape.size());
  return single_output(DType::kInt64, {*dim, Dim(rank)});
}

// transfer_to: the same tensor on the node's device (attribute-free: the node's device field).
StatusOr<std::vector<TensorType>> infer_transfer_to(const OpContext& ctx) {
  if (ctx.node.device.empty()) return ctx.error("the node names no target device");
  return single_output(ctx.input(0).dtype, ctx.input(0).shape);
}

}  // namespace

void add_misc_schemas(std::vector<OpSchema>& out) {
  out.push_back({"nonzero", 1, 1, {"x"}, {"out_dim"}, DtypeClass::kNumericOrBool, infer_nonzero});
  out.push_back({"transfer_to", 1, 1, {"x"}, {}, DtypeClass::kAny, infer_transfer_to});
}

}  // namespace kiln
