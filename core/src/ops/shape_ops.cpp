// Shape op schemas: reshape, squeeze, unsqueeze, flatten, rebind, transpose, permute,
// broadcast_to, concat, stack, split, tile, repeat_interleave, pad, band_part and range. Apart
// from range none looks at values, so every dtype is accepted; symbolic dims are carried through
// exactly, and sizes that combine dims (concat, tile, flatten, pad) are algebraic ("2*batch").
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
  KILN_ASSIGN_OR_RETURN(Shape shape, joined_shape(ctx, "concat"));
  return single_output(ctx.input(0).dtype, std::move(shape));
}

StatusOr<std::vector<TensorType>> infer_squeeze(const OpContext& ctx) {
  Shape shape = ctx.input(0).shape;
  KILN_ASSIGN_OR_RETURN(int64_t axis_attr, get_int_attr(ctx.node, "axis"));
  KILN_ASSIGN_OR_RETURN(size_t axis,
                        ctx.normalize_axis(axis_attr, shape.size(), "attribute 'axis'"));
  if (shape[axis] != Dim(1)) {
    return ctx.error("cannot squeeze dim " + std::to_string(axis) + " of " + ctx.operand(0) +
                     " shape " + shape_to_string(shape) + ": its size is " +
                     shape[axis].to_string() + ", not 1");
  }
  shape.erase(shape.begin() + static_cast<ptrdiff_t>(axis));
  return single_output(ctx.input(0).dtype, std::move(shape));
}

StatusOr<std::vector<TensorType>> infer_unsqueeze(const OpContext& ctx) {
  Shape shape = ctx.input(0).shape;
  KILN_ASSIGN_OR_RETURN(int64_t axis_attr, get_int_attr(ctx.node, "axis"));
  // The new dim can go anywhere from before the first to after the last: rank + 1 places.
  KILN_ASSIGN_OR_RETURN(size_t axis,
                        ctx.normalize_axis(axis_attr, shape.size() + 1, "attribute 'axis'"));
  shape.insert(shape.begin() + static_cast<ptrdiff_t>(axis), Dim(1));
  return single_output(ctx.input(0).dtype, std::move(shape));
}

StatusOr<std::vector<TensorType>> infer_flatten(const OpContext& ctx) {
  const Shape& in = ctx.input(0).shape;
  KILN_ASSIGN_OR_RETURN(int64_t start_attr, get_int_attr(ctx.node, "start_dim", 0));
  KILN_ASSIGN_OR_RETURN(int64_t end_attr, get_int_attr(ctx.node, "end_dim", -1));
  if (in.empty()) {
    // A scalar flattens to one element, whatever the (then meaningless) dims say.
    if ((start_attr != 0 && start_attr != -1) || (end_attr != 0 && end_attr != -1)) {
      return ctx.error("a rank-0 " + ctx.operand(0) + " only flattens with start_dim and end_dim " +
                       "0 or -1, got " + std::to_string(start_attr) + " and " +
                       std::to_string(end_attr));
    }
    return single_output(ctx.input(0).dtype, Shape{Dim(1)});
  }
  KILN_ASSIGN_OR_RETURN(size_t start,
                        ctx.normalize_axis(start_attr, in.size(), "attribute 'start_dim'"));
  KILN_ASSIGN_OR_RETURN(size_t end, ctx.normalize_axis(end_attr, in.size(), "attribute 'end_dim'"));
  if (start > end) {
    return ctx.error("attribute 'start_dim' (" + std::to_string(start) +
                     ") comes after attribute 'end_dim' (" + std::to_string(end) + ")");
  }
  Shape merged(in.begin() + static_cast<ptrdiff_t>(start),
               in.begin() + static_cast<ptrdiff_t>(end) + 1);
  KILN_ASSIGN_OR_RETURN(Dim size, element_count(ctx, merged, "flattened dims"));
  Shape shape(in.begin(), in.begin() + static_cast<ptrdiff_t>(start));
  shape.push_back(std::move(size));
  shape.insert(shape.end(), in.begin() + static_cast<ptrdiff_t>(end) + 1, in.end());
  return single_output(ctx.input(0).dtype, std::move(shape));
}

// rebind: the same elements under a stated shape. Dims that are provably different are an error
// now; symbolic ones are checked when the graph runs (the kernel compares the real shapes).
StatusOr<std::vector<TensorType>> infer_rebind(const OpContext& ctx) {
  KILN_ASSIGN_OR_RETURN(auto target, parse_shape_attr(ctx, "shape", /*allow_infer=*/false));
  KILN_RETURN_IF_ERROR(get_string_attr(ctx.node, "message", std::string()).status());
  const Shape& in = ctx.input(0).shape;
  Shape shape;
  for (auto& d : target) shape.push_back(*d);
  if (shape.size() != in.size()) {
    return ctx.error("attribute 'shape' " + shape_to_string(shape) + " has rank " +
                     std::to_string(shape.size()) + " but " + ctx.operand(0) + " shape " +
                     shape_to_string(in) + " has rank " + std::to_string(in.size()));
  }
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i].is_static() && shape[i].is_static() && in[i] != shape[i]) {
      return ctx.error("cannot rebind " + ctx.operand(0) + " shape " + shape_to_string(in) +
                       " to " + shape_to_string(shape) + ": dim " + std::to_string(i) + " is " +
                       in[i].to_string() + ", not " + shape[i].to_string());
    }
  }
  return single_output(ctx.input(0).dtype, std::move(shape));
}

StatusOr<std::vector<TensorType>> infer_stack(const OpContext& ctx) {
  const TensorType& first = ctx.input(0);
  KILN_ASSIGN_OR_RETURN(int64_t axis_attr, get_int_attr(ctx.node, "axis", 0));
  KILN_ASSIGN_OR_RETURN(size_t axis,
                        ctx.normalize_axis(axis_attr, first.shape.size() + 1, "attribute 'axis'"));
  for (size_t k = 1; k < ctx.inputs.size(); ++k) {
    KILN_RETURN_IF_ERROR(ctx.check_same_dtype(0, k));
    if (ctx.input(k).shape != first.shape) {
      return ctx.error(ctx.operand(k) + " has shape " + shape_to_string(ctx.input(k).shape) +
                       " but " + ctx.operand(0) + " has " + shape_to_string(first.shape) +
                       "; stacked tensors must have one shape");
    }
  }
  Shape shape = first.shape;
  shape.insert(shape.begin() + static_cast<ptrdiff_t>(axis),
               Dim(static_cast<int64_t>(ctx.inputs.size())));
  return single_output(first.dtype, std::move(shape));
}

StatusOr<std::vector<TensorType>> infer_split(const OpContext& ctx) {
  const TensorType& x = ctx.input(0);
  KILN_ASSIGN_OR_RETURN(int64_t axis_attr, get_int_attr(ctx.node, "axis", 0));
  KILN_ASSIGN_OR_RETURN(size_t axis,
                        ctx.normalize_axis(axis_attr, x.shape.size(), "attribute 'axis'"));
  KILN_ASSIGN_OR_RETURN(auto sizes, parse_shape_attr(ctx, "split_sizes", /*allow_infer=*/false));
  if (sizes.empty()) return ctx.error("attribute 'split_sizes' is empty; give at least one size");
  Dim total(0);
  std::vector<TensorType> out(sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) {
    auto sum = dim_add(total, *sizes[i]);
    if (!sum.is_ok()) return ctx.error("attribute 'split_sizes': " + sum.status().message());
    total = std::move(sum).value();
    out[i].dtype = x.dtype;
    out[i].shape = x.shape;
    out[i].shape[axis] = *sizes[i];
  }
  if (total != x.shape[axis]) {
    return ctx.error("attribute 'split_sizes' adds up to " + total.to_string() + " but dim " +
                     std::to_string(axis) + " of " + ctx.operand(0) + " shape " +
                     shape_to_string(x.shape) + " is " + x.shape[axis].to_string());
  }
  return out;
}

StatusOr<std::vector<TensorType>> infer_tile(const OpContext& ctx) {
  const Shape& in = ctx.input(0).shape;
  KILN_ASSIGN_OR_RETURN(auto repeats, parse_shape_attr(ctx, "repeats", /*allow_infer=*/false));
  if (repeats.size() != in.size()) {
    return ctx.error("attribute 'repeats' has " + std::to_string(repeats.size()) + " entries but " +
                     ctx.operand(0) + " has rank " + std::to_string(in.size()) +
                     " (one entry per dim)");
  }
  Shape shape;
  for (size_t i = 0; i < in.size(); ++i) {
    auto product = dim_mul(in[i], *repeats[i]);
    if (!product.is_ok())
      return ctx.error("dim " + std::to_string(i) + ": " + product.status().message());
    shape.push_back(std::move(product).value());
  }
  return single_output(ctx.input(0).dtype, std::move(shape));
}

// repeat_interleave: attribute 'repeats' (one count for every element), or operand 1, a rank-1
// int32/int64 tensor of per-element counts (length 1 or the axis dim) whose sum, known only at
// run time, is attribute 'out_dim'.
StatusOr<std::vector<TensorType>> infer_repeat_interleave(const OpContext& ctx) {
  Shape shape = ctx.input(0).shape;
  KILN_ASSIGN_OR_RETURN(int64_t axis_attr, get_int_attr(ctx.node, "axis"));
  KILN_ASSIGN_OR_RETURN(size_t axis,
                        ctx.normalize_axis(axis_attr, shape.size(), "attribute 'axis'"));
  if (ctx.inputs.size() == 2) {
    const TensorType& counts = ctx.input(1);
    if (counts.dtype != DType::kInt32 && counts.dtype != DType::kInt64) {
      return ctx.error(ctx.operand(1) + " has dtype " + dtype_name(counts.dtype) +
                       "; the counts must be int32 or int64");
    }
    if (counts.shape.size() != 1 || (counts.shape[0] != Dim(1) && counts.shape[0] != shape[axis])) {
      return ctx.error(ctx.operand(1) + " has shape " + shape_to_string(counts.shape) +
                       "; the counts must be [1] or [" + shape[axis].to_string() + "]");
    }
    if (find_attr(ctx.node, "repeats") != nullptr) {
      return ctx.error("give the counts as attribute 'repeats' or as operand 1, not both");
    }
    KILN_ASSIGN_OR_RETURN(auto dims, parse_shape_attr(ctx, "out_dim", /*allow_infer=*/false));
    if (dims.size() != 1) {
      return ctx.error("attribute 'out_dim' must hold exactly one dim, got " +
                       std::to_string(dims.size()));
    }
    shape[axis] = *dims[0];
    return single_output(ctx.input(0).dtype, std::move(shape));
  }
  if (find_attr(ctx.node, "out_dim") != nullptr) {
    return ctx.error("attribute 'out_dim' is only for counts given as operand 1");
  }
  KILN_ASSIGN_OR_RETURN(int64_t repeats, get_int_attr(ctx.node, "repeats"));
  if (repeats < 0) {
    return ctx.error("attribute 'repeats' is " + std::to_string(repeats) + "; it must be >= 0");
  }
  auto product = dim_mul(shape[axis], Dim(repeats));
  if (!product.is_ok()) return ctx.error("repeated dim: " + product.status().message());
  shape[axis] = std::move(product).value();
  return single_output(ctx.input(0).dtype, std::move(shape));
}

// pad: operand 1 is the scalar fill value (so the kernel copies its bytes, whatever the dtype).
StatusOr<std::vector<TensorType>> infer_pad(const OpContext& ctx) {
  const TensorType& x = ctx.input(0);
  KILN_RETURN_IF_ERROR(ctx.check_same_dtype(0, 1));
  if (!ctx.input(1).shape.empty()) {
    return ctx.error(ctx.operand(1) + " has shape " + shape_to_string(ctx.input(1).shape) +
                     "; the fill value must be a scalar (rank 0)");
  }
  KILN_ASSIGN_OR_RETURN(std::string mode,
                        get_string_attr(ctx.node, "mode", std::string("constant")));
  if (mode != "constant") {
    return ctx.error("attribute 'mode' is '" + mode + "'; only 'constant' is supported");
  }
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> paddings, get_ints_attr(ctx.node, "paddings"));
  if (paddings.size() != 2 * x.shape.size()) {
    return ctx.error("attribute 'paddings' has " + std::to_string(paddings.size()) +
                     " entries but " + ctx.operand(0) + " has rank " +
                     std::to_string(x.shape.size()) + " (two entries, before and after, per dim)");
  }
  Shape shape = x.shape;
  for (size_t i = 0; i < shape.size(); ++i) {
    const int64_t before = paddings[2 * i], after = paddings[2 * i + 1];
    if (before < 0 || after < 0) {
      return ctx.error("attribute 'paddings' for dim " + std::to_string(i) + " is (" +
                       std::to_string(before) + ", " + std::to_string(after) +
                       "); paddings must be >= 0");
    }
    auto sum = dim_add(shape[i], Dim(before));
    if (sum.is_ok()) sum = dim_add(sum.value(), Dim(after));
    if (!sum.is_ok())
      return ctx.error("padded dim " + std::to_string(i) + ": " + sum.status().message());
    shape[i] = std::move(sum).value();
  }
  return single_output(x.dtype, std::move(shape));
}

StatusOr<std::vector<TensorType>> infer_band_part(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(ctx.check_min_rank(0, 2));
  for (const char* name : {"num_lower", "num_upper"}) {
    KILN_ASSIGN_OR_RETURN(int64_t v, get_int_attr(ctx.node, name, -1));
    if (v < -1) {
      return ctx.error(std::string("attribute '") + name + "' is " + std::to_string(v) +
                       "; it must be >= 0, or -1 for the whole triangle");
    }
  }
  KILN_ASSIGN_OR_RETURN(int64_t exclude, get_int_attr(ctx.node, "exclude", 0));
  if (exclude != 0 && exclude != 1) {
    return ctx.error("attribute 'exclude' is " + std::to_string(exclude) + "; it must be 0 or 1");
  }
  return single_output(ctx.input(0).dtype, ctx.input(0).shape);
}

// range: scalar start, stop and step of one numeric dtype; the length is attribute 'out_dim'
// (a static size, or a symbol the kernel binds from the values).
StatusOr<std::vector<TensorType>> infer_range(const OpContext& ctx) {
  for (size_t i = 0; i < 3; ++i) {
    KILN_RETURN_IF_ERROR(ctx.check_dtype(i, DtypeClass::kNumeric));
    if (i > 0) KILN_RETURN_IF_ERROR(ctx.check_same_dtype(0, i));
    if (!ctx.input(i).shape.empty()) {
      return ctx.error(ctx.operand(i) + " has shape " + shape_to_string(ctx.input(i).shape) +
                       "; range needs scalars (rank 0)");
    }
  }
  KILN_ASSIGN_OR_RETURN(auto dims, parse_shape_attr(ctx, "out_dim", /*allow_infer=*/false));
  if (dims.size() != 1) {
    return ctx.error("attribute 'out_dim' must hold exactly one dim, got " +
                     std::to_string(dims.size()));
  }
  return single_output(ctx.input(0).dtype, Shape{*dims[0]});
}

// fold (col2im): input [N, C*kh*kw, L] of sliding blocks summed into [N, C, H, W]. Every
// attribute is a pair; L must be the number of block positions.
StatusOr<std::vector<TensorType>> infer_fold(const OpContext& ctx) {
  const Shape& in = ctx.input(0).shape;
  KILN_RETURN_IF_ERROR(ctx.check_dtype(0, DtypeClass::kFloat));
  if (in.size() != 3) {
    return ctx.error(ctx.operand(0) + " has shape " + shape_to_string(in) +
                     "; fold needs rank 3 [N, C * kernel size, L]");
  }
  std::vector<int64_t> pair[4];
  const char* names[4] = {"kernel_size", "stride", "dilation", "padding"};
  for (int i = 0; i < 4; ++i) {
    if (i > 0 && find_attr(ctx.node, names[i]) == nullptr) {
      pair[i] = {i == 3 ? 0 : 1, i == 3 ? 0 : 1};
      continue;
    }
    KILN_ASSIGN_OR_RETURN(pair[i], get_ints_attr(ctx.node, names[i]));
    const int64_t low = i == 3 ? 0 : 1;
    if (pair[i].size() != 2 || pair[i][0] < low || pair[i][1] < low) {
      return ctx.error(std::string("attribute '") + names[i] +
                       "' must be two ints >= " + std::to_string(low));
    }
  }
  KILN_ASSIGN_OR_RETURN(auto size, parse_shape_attr(ctx, "output_size", /*allow_infer=*/false));
  if (size.size() != 2 || !size[0]->is_static() || !size[1]->is_static()) {
    return ctx.error("attribute 'output_size' must be two static dims");
  }
  const int64_t kernel = pair[0][0] * pair[0][1];
  int64_t blocks = 1;
  for (int d = 0; d < 2; ++d) {
    const int64_t span = size[d]->value() + 2 * pair[3][d] - pair[2][d] * (pair[0][d] - 1) - 1;
    if (span < 0) {
      return ctx.error("the kernel does not fit output_size dim " + std::to_string(d) +
                       " with this padding and dilation");
    }
    blocks *= span / pair[1][d] + 1;
  }
  auto channels = in[1].divide_exact(Dim(kernel));
  if (!channels) {
    return ctx.error(ctx.operand(0) + " dim 1 (" + in[1].to_string() +
                     ") is not a multiple of the kernel size " + std::to_string(kernel));
  }
  if (in[2] != Dim(blocks)) {
    return ctx.error(ctx.operand(0) + " dim 2 (" + in[2].to_string() + ") must be the " +
                     std::to_string(blocks) + " block positions of this output_size, kernel, " +
                     "stride, dilation and padding");
  }
  return single_output(ctx.input(0).dtype, Shape{in[0], *channels, *size[0], *size[1]});
}

}  // namespace

void add_shape_schemas(std::vector<OpSchema>& out) {
  out.push_back({"reshape", 1, 1, {"x"}, {"shape"}, DtypeClass::kAny, infer_reshape});
  out.push_back(
      {"transpose", 1, 1, {"x"}, {"axis_1", "axis_2"}, DtypeClass::kAny, infer_transpose});
  out.push_back({"permute", 1, 1, {"x"}, {"dims"}, DtypeClass::kAny, infer_permute});
  out.push_back({"broadcast_to", 1, 1, {"x"}, {"shape"}, DtypeClass::kAny, infer_broadcast_to});
  out.push_back({"concat", 1, SIZE_MAX, {}, {"axis"}, DtypeClass::kAny, infer_concat});
  out.push_back({"squeeze", 1, 1, {"x"}, {"axis"}, DtypeClass::kAny, infer_squeeze});
  out.push_back({"unsqueeze", 1, 1, {"x"}, {"axis"}, DtypeClass::kAny, infer_unsqueeze});
  out.push_back(
      {"flatten", 1, 1, {"x"}, {"start_dim", "end_dim"}, DtypeClass::kAny, infer_flatten});
  out.push_back({"rebind", 1, 1, {"x"}, {"shape", "message"}, DtypeClass::kAny, infer_rebind});
  out.push_back({"stack", 1, SIZE_MAX, {}, {"axis"}, DtypeClass::kAny, infer_stack});
  out.push_back({"split", 1, 1, {"x"}, {"split_sizes", "axis"}, DtypeClass::kAny, infer_split});
  out.push_back({"tile", 1, 1, {"x"}, {"repeats"}, DtypeClass::kAny, infer_tile});
  out.push_back({"repeat_interleave",
                 1,
                 2,
                 {"x", "repeats"},
                 {"repeats", "axis", "out_dim"},
                 DtypeClass::kAny,
                 infer_repeat_interleave});
  out.push_back(
      {"pad", 2, 2, {"input", "value"}, {"paddings", "mode"}, DtypeClass::kAny, infer_pad});
  out.push_back({"band_part",
                 1,
                 1,
                 {"x"},
                 {"num_lower", "num_upper", "exclude"},
                 DtypeClass::kAny,
                 infer_band_part});
  out.push_back(
      {"range", 3, 3, {"start", "stop", "step"}, {"out_dim"}, DtypeClass::kNumeric, infer_range});
  out.push_back({"fold",
                 1,
                 1,
                 {"input"},
                 {"output_size", "kernel_size", "stride", "dilation", "padding"},
                 DtypeClass::kFloat,
                 infer_fold});
}

}  // namespace kiln
