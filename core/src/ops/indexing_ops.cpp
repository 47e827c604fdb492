// Indexing op schemas: slice_tensor (Python slice semantics per dim), gather, gather_nd,
// scatter, scatter_nd and masked_scatter. Index values are only known at run time, so the kernels
// check them; here only dtypes and shapes are checked.
#include <algorithm>
#include <climits>
#include <cstdlib>
#include <optional>

#include "ops/op_table.h"

namespace kiln {
namespace {

// Length of the Python slice start:stop:step over a dim of static size n, with Python's clamping:
// negative indices count from the end, out-of-range bounds clamp. INT64_MAX and INT64_MIN as
// stop fall out of the same rules as "to the end" and "past the start". Computed in 128 bits so
// no combination of int64 bounds can overflow.
int64_t slice_length(int64_t n, int64_t start, int64_t stop, int64_t step) {
  const __int128 lower = step < 0 ? -1 : 0;
  const __int128 upper = step < 0 ? __int128(n) - 1 : __int128(n);
  auto clamp = [&](int64_t index) {
    __int128 i = index;
    if (i < 0) i += n;
    return std::clamp(i, lower, upper);
  };
  const __int128 b = clamp(start), e = clamp(stop), s = step;
  if (s > 0) return e > b ? static_cast<int64_t>((e - b - 1) / s + 1) : 0;
  return b > e ? static_cast<int64_t>((b - e - 1) / -s + 1) : 0;
}

std::string slice_text(int64_t start, int64_t stop, int64_t step) {
  auto bound = [](int64_t v) {
    if (v == INT64_MAX) return std::string("INT64_MAX");
    if (v == INT64_MIN) return std::string("INT64_MIN");
    return std::to_string(v);
  };
  return bound(start) + ":" + bound(stop) + ":" + bound(step);
}

// Length of start:stop:step over a symbolic dim n, as MAX assumes bounds within the dim (the
// kernel checks the real count when the graph runs). Step 1: a bound b >= 0 is position b, a
// negative one n + b, INT64_MAX as stop is n; the length is stop - start when that is a static
// count (clamped at 0) or n minus a constant. Step -1 is supported for the whole dim reversed.
// nullopt when the length cannot be written as a dim.
std::optional<Dim> symbolic_slice_length(const Dim& n, int64_t start, int64_t stop, int64_t step) {
  constexpr int64_t kLimit = int64_t{1} << 53;  // bounds beyond this are not "near" either end
  if (step == -1) {
    const bool from_last = start == INT64_MAX || start == -1;
    if (from_last && stop == INT64_MIN) return n;
    return std::nullopt;
  }
  if (step != 1 || start == INT64_MAX || start == INT64_MIN || stop == INT64_MIN) {
    return std::nullopt;
  }
  if (std::abs(start) > kLimit || (stop != INT64_MAX && std::abs(stop) > kLimit)) {
    return std::nullopt;
  }
  const bool start_from_end = start < 0;
  const bool stop_at_end = stop == INT64_MAX;
  const bool stop_from_end = stop < 0 || stop_at_end;
  if (start_from_end && !stop_from_end) return std::nullopt;  // stop - (n + start): not a size
  if (start_from_end == stop_from_end && !stop_at_end) {
    return Dim(std::max<int64_t>(0, stop - start));  // both relative to one end
  }
  if (start_from_end) return Dim(-start);  // n + start .. n
  // start from the beginning, stop relative to the end: n + stop - start (stop 0 at the end).
  const int64_t cut = (stop_at_end ? 0 : -stop) + start;
  auto length = dim_sub(n, Dim(cut));
  if (!length.is_ok()) return std::nullopt;
  return std::move(length).value();
}

StatusOr<std::vector<TensorType>> infer_slice_tensor(const OpContext& ctx) {
  const Shape& in = ctx.input(0).shape;
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> starts, get_ints_attr(ctx.node, "starts"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> stops, get_ints_attr(ctx.node, "stops"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> steps, get_ints_attr(ctx.node, "steps"));
  using Entry = std::pair<const char*, const std::vector<int64_t>*>;
  for (const auto& [name, list] :
       {Entry{"starts", &starts}, Entry{"stops", &stops}, Entry{"steps", &steps}}) {
    if (list->size() != in.size()) {
      return ctx.error(std::string("attribute '") + name + "' has " + std::to_string(list->size()) +
                       " entries but " + ctx.operand(0) + " has rank " + std::to_string(in.size()) +
                       " (one entry per dim)");
    }
  }
  std::vector<bool> squeezed(in.size(), false);
  if (find_attr(ctx.node, "squeeze") != nullptr) {
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> squeeze, get_ints_attr(ctx.node, "squeeze"));
    for (size_t k = 0; k < squeeze.size(); ++k) {
      KILN_ASSIGN_OR_RETURN(size_t axis,
                            ctx.normalize_axis(squeeze[k], in.size(),
                                               "attribute 'squeeze' entry " + std::to_string(k)));
      if (squeezed[axis]) {
        return ctx.error("attribute 'squeeze' names axis " + std::to_string(axis) + " twice");
      }
      squeezed[axis] = true;
    }
  }
  Shape shape;
  for (size_t d = 0; d < in.size(); ++d) {
    const std::string where = "dim " + std::to_string(d) + " (" + in[d].to_string() + ") sliced " +
                              slice_text(starts[d], stops[d], steps[d]);
    if (steps[d] == 0) return ctx.error(where + ": step must not be 0");
    Dim length;
    if (in[d].is_static()) {
      length = slice_length(in[d].value(), starts[d], stops[d], steps[d]);
    } else {
      auto symbolic = symbolic_slice_length(in[d], starts[d], stops[d], steps[d]);
      if (!symbolic) {
        return ctx.error(where +
                         ": a symbolic dim can only be sliced whole, reversed whole, or with "
                         "step 1 between bounds that are both from the start or both from the "
                         "end (or from the start to the end)");
      }
      length = std::move(*symbolic);
    }
    if (squeezed[d]) {
      if (length != Dim(1)) {
        return ctx.error(where + ": a squeezed dim's slice must have length 1, not " +
                         length.to_string());
      }
      continue;
    }
    shape.push_back(std::move(length));
  }
  return single_output(ctx.input(0).dtype, std::move(shape));
}

StatusOr<std::vector<TensorType>> infer_gather(const OpContext& ctx) {
  const TensorType& input = ctx.input(0);
  const TensorType& indices = ctx.input(1);
  if (indices.dtype != DType::kInt32 && indices.dtype != DType::kInt64) {
    return ctx.error(ctx.operand(1) + " has dtype " + dtype_name(indices.dtype) +
                     "; gather needs int32 or int64 indices");
  }
  KILN_ASSIGN_OR_RETURN(int64_t axis_attr, get_int_attr(ctx.node, "axis", -1));
  KILN_ASSIGN_OR_RETURN(size_t axis,
                        ctx.normalize_axis(axis_attr, input.shape.size(), "attribute 'axis'"));
  Shape shape(input.shape.begin(), input.shape.begin() + static_cast<ptrdiff_t>(axis));
  shape.insert(shape.end(), indices.shape.begin(), indices.shape.end());
  shape.insert(shape.end(), input.shape.begin() + static_cast<ptrdiff_t>(axis) + 1,
               input.shape.end());
  return single_output(input.dtype, std::move(shape));
}

Status check_index_dtype(const OpContext& ctx, size_t index) {
  const DType t = ctx.input(index).dtype;
  if (t == DType::kInt32 || t == DType::kInt64) return Status::ok();
  return ctx.error(ctx.operand(index) + " has dtype " + dtype_name(t) + "; " + ctx.node.op +
                   " needs int32 or int64 indices");
}

// The index depth k of an N-d index tensor: its last dim, which must be static.
StatusOr<size_t> index_depth(const OpContext& ctx, size_t index, size_t max_depth) {
  KILN_RETURN_IF_ERROR(ctx.check_min_rank(index, 1));
  const Dim& last = ctx.input(index).shape.back();
  if (!last.is_static()) {
    return ctx.error("the last dim of " + ctx.operand(index) + " shape " +
                     shape_to_string(ctx.input(index).shape) +
                     " is the index depth and must be static, not " + last.to_string());
  }
  if (last.value() > static_cast<int64_t>(max_depth)) {
    return ctx.error(ctx.operand(index) + " has index depth " + last.to_string() +
                     " (its last dim) but only " + std::to_string(max_depth) +
                     " dims of operand 0 can be indexed");
  }
  return static_cast<size_t>(last.value());
}

StatusOr<std::vector<TensorType>> infer_gather_nd(const OpContext& ctx) {
  const Shape& in = ctx.input(0).shape;
  const Shape& idx = ctx.input(1).shape;
  KILN_RETURN_IF_ERROR(check_index_dtype(ctx, 1));
  KILN_ASSIGN_OR_RETURN(int64_t batch_attr, get_int_attr(ctx.node, "batch_dims", 0));
  if (batch_attr < 0 || static_cast<size_t>(batch_attr) >= std::max<size_t>(idx.size(), 1) ||
      static_cast<size_t>(batch_attr) > in.size()) {
    return ctx.error("attribute 'batch_dims' is " + std::to_string(batch_attr) +
                     "; it must be >= 0 and below the rank of both operands (" +
                     std::to_string(in.size()) + " and " + std::to_string(idx.size()) + ")");
  }
  const size_t batch = static_cast<size_t>(batch_attr);
  KILN_ASSIGN_OR_RETURN(size_t depth, index_depth(ctx, 1, in.size() - batch));
  for (size_t i = 0; i < batch; ++i) {
    if (in[i] != idx[i]) {
      return ctx.error("batch dim " + std::to_string(i) + " differs: " + ctx.operand(0) +
                       " shape " + shape_to_string(in) + " vs " + ctx.operand(1) + " shape " +
                       shape_to_string(idx));
    }
  }
  Shape shape(in.begin(), in.begin() + static_cast<ptrdiff_t>(batch));
  shape.insert(shape.end(), idx.begin() + static_cast<ptrdiff_t>(batch), idx.end() - 1);
  shape.insert(shape.end(), in.begin() + static_cast<ptrdiff_t>(batch + depth), in.end());
  return single_output(ctx.input(0).dtype, std::move(shape));
}

// scatter (ScatterElements): out = input with out[..., indices[i..], ...] = updates[i..] along
// `axis`; updates and indices have one shape, of the input's rank.
StatusOr<std::vector<TensorType>> infer_scatter(const OpContext& ctx) {
  const Shape& in = ctx.input(0).shape;
  KILN_RETURN_IF_ERROR(ctx.check_same_dtype(0, 1));
  KILN_RETURN_IF_ERROR(check_index_dtype(ctx, 2));
  KILN_ASSIGN_OR_RETURN(int64_t axis_attr, get_int_attr(ctx.node, "axis", -1));
  KILN_ASSIGN_OR_RETURN(size_t axis, ctx.normalize_axis(axis_attr, in.size(), "attribute 'axis'"));
  const Shape& upd = ctx.input(1).shape;
  if (ctx.input(2).shape != upd) {
    return ctx.error(ctx.operand(2) + " shape " + shape_to_string(ctx.input(2).shape) +
                     " differs from " + ctx.operand(1) + " shape " + shape_to_string(upd));
  }
  if (upd.size() != in.size()) {
    return ctx.error(ctx.operand(1) + " has rank " + std::to_string(upd.size()) + " but " +
                     ctx.operand(0) + " has rank " + std::to_string(in.size()));
  }
  for (size_t i = 0; i < in.size(); ++i) {
    if (i == axis || upd[i] == in[i]) continue;
    if (upd[i].is_static() && in[i].is_static() && upd[i].value() <= in[i].value()) continue;
    return ctx.error(ctx.operand(1) + " shape " + shape_to_string(upd) + " does not fit in " +
                     ctx.operand(0) + " shape " + shape_to_string(in) + " at dim " +
                     std::to_string(i) + " (off the scatter axis it must be no larger)");
  }
  return single_output(ctx.input(0).dtype, in);
}

// scatter_nd: indices [..., k] address the first k dims of input; updates have shape
// indices.shape[:-1] + input.shape[k:].
StatusOr<std::vector<TensorType>> infer_scatter_nd(const OpContext& ctx) {
  const Shape& in = ctx.input(0).shape;
  KILN_RETURN_IF_ERROR(ctx.check_same_dtype(0, 1));
  KILN_RETURN_IF_ERROR(check_index_dtype(ctx, 2));
  KILN_ASSIGN_OR_RETURN(size_t depth, index_depth(ctx, 2, in.size()));
  const Shape& idx = ctx.input(2).shape;
  Shape expected(idx.begin(), idx.end() - 1);
  expected.insert(expected.end(), in.begin() + static_cast<ptrdiff_t>(depth), in.end());
  if (ctx.input(1).shape != expected) {
    return ctx.error(ctx.operand(1) + " has shape " + shape_to_string(ctx.input(1).shape) +
                     " but indices " + shape_to_string(idx) + " into " + shape_to_string(in) +
                     " need updates of shape " + shape_to_string(expected));
  }
  return single_output(ctx.input(0).dtype, in);
}

// masked_scatter: where mask (broadcast to input's shape) is true, the next element of updates
// (in C order) replaces input's.
StatusOr<std::vector<TensorType>> infer_masked_scatter(const OpContext& ctx) {
  const Shape& in = ctx.input(0).shape;
  if (ctx.input(1).dtype != DType::kBool) {
    return ctx.error(ctx.operand(1) + " has dtype " + dtype_name(ctx.input(1).dtype) +
                     "; the mask must be bool");
  }
  KILN_RETURN_IF_ERROR(ctx.check_same_dtype(0, 2));
  KILN_ASSIGN_OR_RETURN(Shape shape, ctx.broadcast({0, 1}));
  if (shape != in) {
    return ctx.error(ctx.operand(1) + " shape " + shape_to_string(ctx.input(1).shape) +
                     " must broadcast to " + ctx.operand(0) + " shape " + shape_to_string(in) +
                     ", not widen it to " + shape_to_string(shape));
  }
  return single_output(ctx.input(0).dtype, in);
}

}  // namespace

void add_indexing_schemas(std::vector<OpSchema>& out) {
  out.push_back({"slice_tensor",
                 1,
                 1,
                 {"x"},
                 {"starts", "stops", "steps", "squeeze"},
                 DtypeClass::kAny,
                 infer_slice_tensor});
  out.push_back({"gather", 2, 2, {"input", "indices"}, {"axis"}, DtypeClass::kAny, infer_gather});
  out.push_back(
      {"gather_nd", 2, 2, {"input", "indices"}, {"batch_dims"}, DtypeClass::kAny, infer_gather_nd});
  out.push_back({"scatter",
                 3,
                 3,
                 {"input", "updates", "indices"},
                 {"axis"},
                 DtypeClass::kAny,
                 infer_scatter});
  out.push_back({"scatter_nd",
                 3,
                 3,
                 {"input", "updates", "indices"},
                 {},
                 DtypeClass::kAny,
                 infer_scatter_nd});
  out.push_back({"masked_scatter",
                 3,
                 3,
                 {"input", "mask", "updates"},
                 {},
                 DtypeClass::kAny,
                 infer_masked_scatter});
}

}  // namespace kiln
