// Neural-network op schemas: matmul (MAX's broadcasting batched semantics), softmax, layer_norm,
// and constant (a source with no inputs, materialized by the executor).
#include <cmath>

#include "ops/op_table.h"

namespace kiln {
namespace {

StatusOr<std::vector<TensorType>> infer_matmul(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(ctx.check_dtype(0, DtypeClass::kNumeric));
  KILN_RETURN_IF_ERROR(ctx.check_same_dtype(0, 1));
  KILN_RETURN_IF_ERROR(ctx.check_min_rank(0, 1));
  KILN_RETURN_IF_ERROR(ctx.check_min_rank(1, 1));
  // A 1-D lhs is [1, K] and a 1-D rhs is [K, 1]; the added 1s leave the output again.
  Shape lhs = ctx.input(0).shape;
  Shape rhs = ctx.input(1).shape;
  const bool lhs_vector = lhs.size() == 1;
  const bool rhs_vector = rhs.size() == 1;
  if (lhs_vector) lhs.insert(lhs.begin(), Dim(1));
  if (rhs_vector) rhs.push_back(Dim(1));
  const Dim& k_lhs = lhs[lhs.size() - 1];
  const Dim& k_rhs = rhs[rhs.size() - 2];
  if (k_lhs != k_rhs) {
    return ctx.error(ctx.operand(1) + " has shape " + shape_to_string(ctx.input(1).shape) +
                     " but K of lhs is " + k_lhs.to_string() + " (lhs shape " +
                     shape_to_string(ctx.input(0).shape) + ")");
  }
  // Batch dims broadcast like elementwise operands, aligned at the right.
  const Shape lhs_batch(lhs.begin(), lhs.end() - 2);
  const Shape rhs_batch(rhs.begin(), rhs.end() - 2);
  const size_t rank = std::max(lhs_batch.size(), rhs_batch.size());
  Shape shape(rank);
  for (size_t i = 0; i < rank; ++i) {
    const Dim a = i + lhs_batch.size() >= rank ? lhs_batch[i + lhs_batch.size() - rank] : Dim(1);
    const Dim b = i + rhs_batch.size() >= rank ? rhs_batch[i + rhs_batch.size() - rank] : Dim(1);
    auto d = broadcast_dim(a, b);
    if (!d) {
      return ctx.error("batch dims of lhs " + shape_to_string(ctx.input(0).shape) + " and rhs " +
                       shape_to_string(ctx.input(1).shape) + " do not broadcast: " + a.to_string() +
                       " vs " + b.to_string());
    }
    shape[i] = std::move(*d);
  }
  if (!lhs_vector) shape.push_back(lhs[lhs.size() - 2]);
  if (!rhs_vector) shape.push_back(rhs[rhs.size() - 1]);
  return single_output(ctx.input(0).dtype, std::move(shape));
}

StatusOr<std::vector<TensorType>> infer_softmax(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(ctx.check_dtype(0, DtypeClass::kFloat));
  KILN_ASSIGN_OR_RETURN(int64_t axis, get_int_attr(ctx.node, "axis", -1));
  KILN_RETURN_IF_ERROR(
      ctx.normalize_axis(axis, ctx.input(0).shape.size(), "attribute 'axis'").status());
  return single_output(ctx.input(0).dtype, ctx.input(0).shape);
}

StatusOr<std::vector<TensorType>> infer_layer_norm(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(ctx.check_dtype(0, DtypeClass::kFloat));
  KILN_RETURN_IF_ERROR(ctx.check_min_rank(0, 1));
  const Dim& features = ctx.input(0).shape.back();
  for (size_t k : {size_t(1), size_t(2)}) {
    KILN_RETURN_IF_ERROR(ctx.check_same_dtype(0, k));
    const Shape& s = ctx.input(k).shape;
    if (s.size() != 1 || s[0] != features) {
      return ctx.error(ctx.operand(k) + " has shape " + shape_to_string(s) + " but must be [" +
                       features.to_string() + "], the last dim of input " +
                       shape_to_string(ctx.input(0).shape));
    }
  }
  KILN_ASSIGN_OR_RETURN(double epsilon, get_float_attr(ctx.node, "epsilon", 1e-5));
  if (!std::isfinite(epsilon) || epsilon < 0) {
    return ctx.error("attribute 'epsilon' is " + std::to_string(epsilon) +
                     "; it must be finite and >= 0");
  }
  return single_output(ctx.input(0).dtype, ctx.input(0).shape);
}

StatusOr<std::vector<TensorType>> infer_constant(const OpContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const HostTensor* value, get_tensor_attr(ctx.node, "value"));
  if (!dtype_is_valid(static_cast<int32_t>(value->dtype))) {
    return ctx.error("attribute 'value' has an unknown dtype code " +
                     std::to_string(static_cast<int32_t>(value->dtype)));
  }
  Shape shape(value->shape.begin(), value->shape.end());
  const auto count = static_num_elements(value->shape);
  if (!count || static_cast<uint64_t>(*count) > SIZE_MAX / dtype_size(value->dtype) ||
      static_cast<size_t>(*count) * dtype_size(value->dtype) != value->byte_size()) {
    return ctx.error("attribute 'value' has " + std::to_string(value->byte_size()) +
                     " bytes, which does not match its type " + dtype_name(value->dtype) +
                     shape_to_string(shape));
  }
  return single_output(value->dtype, std::move(shape));
}

}  // namespace

void add_nn_schemas(std::vector<OpSchema>& out) {
  out.push_back({"matmul", 2, 2, {"lhs", "rhs"}, {}, DtypeClass::kNumeric, infer_matmul});
  out.push_back({"softmax", 1, 1, {"x"}, {"axis"}, DtypeClass::kFloat, infer_softmax});
  out.push_back({"layer_norm",
                 3,
                 3,
                 {"input", "gamma", "beta"},
                 {"epsilon"},
                 DtypeClass::kFloat,
                 infer_layer_norm});
  out.push_back({"constant", 0, 0, {}, {"value"}, DtypeClass::kAny, infer_constant});
}

}  // namespace kiln
