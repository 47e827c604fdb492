// Schemas of the ops the fusion passes form. They are core ops (so a fused graph verifies and
// saves like any other), named with the "kiln." prefix that MAX's op set never uses.
#include "ops/op_schema.h"
#include "ops/op_table.h"
#include "passes/passes.h"

namespace kiln {
namespace {

// kiln.fused_matmul(lhs, rhs[, bias]; activation): activation(matmul(lhs, rhs) + bias), with bias
// of shape [N] added along the last output dim.
StatusOr<std::vector<TensorType>> infer_fused_matmul(const OpContext& ctx) {
  if (ctx.input(0).dtype != DType::kFloat32) {
    return ctx.error(ctx.operand(0) + " has dtype " + dtype_name(ctx.input(0).dtype) +
                     "; kiln.fused_matmul needs float32");
  }
  KILN_ASSIGN_OR_RETURN(std::string activation,
                        get_string_attr(ctx.node, "activation", std::string("none")));
  if (fused_matmul_activations().count(activation) == 0) {
    std::string known;
    for (const std::string& a : fused_matmul_activations())
      known += (known.empty() ? "" : ", ") + a;
    return ctx.error("attribute 'activation' is '" + activation + "'; it must be one of " + known);
  }
  Node product;
  product.op = "matmul";
  product.name = ctx.node.name;
  product.inputs = {ctx.node.inputs.at(0), ctx.node.inputs.at(1)};
  KILN_ASSIGN_OR_RETURN(std::vector<TensorType> out,
                        infer_output_types(product, {ctx.input(0), ctx.input(1)}));
  if (ctx.inputs.size() == 3) {
    KILN_RETURN_IF_ERROR(ctx.check_same_dtype(0, 2));
    const TensorType& bias = ctx.input(2);
    const Shape& shape = out[0].shape;
    if (bias.shape.size() != 1 || shape.empty() || !(bias.shape[0] == shape.back())) {
      return ctx.error(ctx.operand(2) + " has shape " + bias.to_string() +
                       "; it must be one dim equal to the output's last dim (" +
                       out[0].to_string() + ")");
    }
  }
  return out;
}

// kiln.fused_elementwise(x, operands...; steps): float32 elementwise steps applied to x in order
// (see elementwise_chain.cpp). Every extra operand is float32, rank 0 or of x's shape.
StatusOr<std::vector<TensorType>> infer_fused_elementwise(const OpContext& ctx) {
  const TensorType& x = ctx.input(0);
  if (x.dtype != DType::kFloat32) {
    return ctx.error(ctx.operand(0) + " has dtype " + dtype_name(x.dtype) +
                     "; kiln.fused_elementwise needs float32");
  }
  KILN_ASSIGN_OR_RETURN(std::string steps, get_string_attr(ctx.node, "steps", std::string()));
  std::string why;
  if (!valid_elementwise_steps(steps, ctx.inputs.size(), &why)) {
    return ctx.error("attribute 'steps' is '" + steps + "': " + why);
  }
  for (size_t k = 1; k < ctx.inputs.size(); ++k) {
    const TensorType& t = ctx.input(k);
    if (t.dtype != DType::kFloat32 || !(t.shape.empty() || t.shape == x.shape)) {
      return ctx.error(ctx.operand(k) + " is " + t.to_string() +
                       "; each extra operand must be float32, a scalar or of x's shape " +
                       x.to_string());
    }
  }
  return single_output(DType::kFloat32, x.shape);
}

}  // namespace

const std::set<std::string>& fused_matmul_activations() {
  static const std::set<std::string> kNames = {"none",    "relu", "gelu", "gelu_tanh",
                                               "sigmoid", "tanh", "silu"};
  return kNames;
}

void add_fused_schemas(std::vector<OpSchema>& out) {
  out.push_back({"kiln.fused_matmul",
                 2,
                 3,
                 {"lhs", "rhs", "bias"},
                 {"activation"},
                 DtypeClass::kFloat,
                 infer_fused_matmul});
  out.push_back({"kiln.fused_elementwise",
                 1,
                 SIZE_MAX,
                 {"x"},
                 {"steps"},
                 DtypeClass::kFloat,
                 infer_fused_elementwise});
}

}  // namespace kiln
