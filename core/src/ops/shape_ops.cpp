// Shape op schemas: reshape, transpose, permute, broadcast_to, concat. None looks at values, so
// every dtype is accepted; symbolic dims are carried through exactly.
#include "ir/checked_math.h"
#include "ops/op_table.h"

namespace kiln {
namespace {

StatusOr<Dim> element_count(const OpContext& ctx, const Shape& shape, const std::string& what) {
  auto count = checked_num_elements(shape);
  if (!count.is_ok()) return ctx.error(what + ": " + count.status().message());
  return count;
}

StatusOr<std::vector<TensorType>> infer_reshape(const OpContext& ctx) {
  KILN_ASSIGN_OR_RETURN(auto target, parse_shape_attr(ctx, "shape", /*allow_infer=*/true));
  const Shape& in = ctx.input(0).shape;
  KILN_ASSIGN_OR_RETURN(Dim total, element_count(ctx, in, ctx.operand(0)));
  Shape known;
  size_t infer_at = target.size();
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i]) {
      known.push_back(*target[i]);
    } else {
      infer_at = i;
    }
  }
  KILN_ASSIGN_OR_RETURN(Dim known_count, element_count(ctx, known, "attribute 'shape'"));
  if (infer_at == target.size()) {
    if (known_count != total) {
      return ctx.error(ctx.operand(0) + " has shape " + shape_to_string(in) + " (" +
                       total.to_string() + " elements) but the target shape " +
                       shape_to_string(known) + " has " + known_count.to_string());
    }
    return single_output(ctx.input(0).dtype, std::move(known));
  }
  if (known_count == Dim(0)) {
    return ctx.error("cannot infer the -1 dim of attribute 'shape': the other dims multiply to 0");
  }
  auto inferred = total.divide_exact(known_count);
  if (!inferred || (inferred->is_static() && inferred->value() < 0)) {
    return ctx.error("cannot infer the -1 dim of attribute 'shape': " + ctx.operand(0) +
                     " has shape " + shape_to_string(in) + " (" + total.to_string() +
                     " elements), not a multiple of " + known_count.to_string());
  }
  Shape shape;
  for (auto& d : target) shape.push_back(d ? *d : *inferred);
  return single_output(ctx.input(0).dtype, std::move(shape));
}

StatusOr<std::vector<TensorType>> infer_transpose(const OpContext& ctx) {
  Shape shape = ctx.input(0).shape;
  KILN_ASSIGN_OR_RETURN(int64_t a1, get_int_attr(ctx.node, "axis_1"));
  KILN_ASSIGN_OR_RETURN(int64_t a2, get_int_attr(ctx.node, "axis_2"));
  KILN_ASSIGN_OR_RETURN(size_t i, ctx.normalize_axis(a1, shape.size(), "attribute 'axis_1'"));
  KILN_ASSIGN_OR_RETURN(size_t j, ctx.normalize_axis(a2, shape.size(), "attribute 'axis_2'"));
  std::swap(shape[i], shape[j]);
  return single_output(ctx.input(0).dtype, std::move(shape));
}

StatusOr<std::vector<TensorType>> infer_permute(const OpContext& ctx) {
  const Shape& in = ctx.input(0).shape;
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> dims, get_ints_attr(ctx.node, "dims"));
  if (dims.size() != in.size()) {
    return ctx.error("attribute 'dims' has " + std::to_string(dims.size()) + " entries but " +
                     ctx.operand(0) + " has rank " + std::to_string(in.size()));
  }
  std::vector<bool> seen(in.size(), false);
  Shape shape;
  for (size_t k = 0; k < dims.size(); ++k) {
    KILN_ASSIGN_OR_RETURN(
        size_t axis,
        ctx.normalize_axis(dims[k], in.size(), "attribute 'dims' entry " + std::to_string(k)));
    if (seen[axis]) {
      return ctx.error("attribute 'dims' names axis " + std::to_string(axis) +
                       " twice; it must be a permutation");
    }
    seen[axis] = true;
    shape.push_back(in[axis]);
  }
  return single_output(ctx.input(0).dtype, std::move(shape));
}

StatusOr<std::vector<TensorType>> infer_broadcast_to(const OpContext& ctx) {
  KILN_ASSIGN_OR_RETURN(auto target, parse_shape_attr(ctx, "shape", /*allow_infer=*/false));
  const Shape& in = ctx.input(0).shape;
  Shape shape;
  for (auto& d : target) shape.push_back(*d);
  if (shape.size() < in.size()) {
    return ctx.error("cannot broadcast " + ctx.operand(0) + " shape " + shape_to_string(in) +
                     " to the lower-rank shape " + shape_to_string(shape));
  }
  const size_t offset = shape.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == shape[offset + i] || in[i] == Dim(1)) continue;
    return ctx.error("cannot broadcast " + ctx.operand(0) + " shape " + shape_to_string(in) +
                     " to " + shape_to_string(shape) + ": its dim " + std::to_string(i) + " is " +
                     in[i].to_string() + ", neither 1 nor " + shape[offset + i].to_string());
  }
  return single_output(ctx.input(0).dtype, std::move(shape));
}

StatusOr<std::vector<TensorType>> infer_concat(const OpContext& ctx) {
  const TensorType& first = ctx.input(0);
  KILN_ASSIGN_OR_RETURN(int64_t axis_attr, get_int_attr(ctx.node, "axis", 0));
  KILN_ASSIGN_OR_RETURN(size_t axis,
                        ctx.normalize_axis(axis_attr, first.shape.size(), "attribute 'axis'"));
  Shape shape = first.shape;
  for (size_t k = 1; k < ctx.inputs.size(); ++k) {
    KILN_RETURN_IF_ERROR(ctx.check_same_dtype(0, k));
    const Shape& other = ctx.input(k).shape;
    if (other.size() != shape.size()) {
      return ctx.error(ctx.operand(k) + " has rank " + std::to_string(other.size()) + " but " +
                       ctx.operand(0) + " has rank " + std::to_string(shape.size()));
    }
    for (size_t i = 0; i < shape.size(); ++i) {
      if (i == axis) continue;
      if (other[i] != shape[i]) {
        return ctx.error(ctx.operand(k) + " has shape " + shape_to_string(other) + " but " +
                         ctx.operand(0) + " has " + shape_to_string(first.shape) + ": dim " +
                         std::to_string(i) + " differs off the concat axis " +
                         std::to_string(axis));
      }
    }
    auto sum = dim_add(shape[axis], other[axis]);
    if (!sum.is_ok()) return ctx.error("concat axis size: " + sum.status().message());
    shape[axis] = std::move(sum).value();
  }
  return single_output(first.dtype, std::move(shape));
}

}  // namespace

void add_shape_schemas(std::vector<OpSchema>& out) {
  out.push_back({"reshape", 1, 1, {"x"}, {"shape"}, DtypeClass::kAny, infer_reshape});
  out.push_back(
      {"transpose", 1, 1, {"x"}, {"axis_1", "axis_2"}, DtypeClass::kAny, infer_transpose});
  out.push_back({"permute", 1, 1, {"x"}, {"dims"}, DtypeClass::kAny, infer_permute});
  out.push_back({"broadcast_to", 1, 1, {"x"}, {"shape"}, DtypeClass::kAny, infer_broadcast_to});
  out.push_back({"concat", 1, SIZE_MAX, {}, {"axis"}, DtypeClass::kAny, infer_concat});
}

}  // namespace kiln
