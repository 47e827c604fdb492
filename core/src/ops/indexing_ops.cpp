// Indexing op schemas: slice_tensor (Python slice semantics per dim) and gather.
#include <algorithm>
#include <climits>

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
      // A symbolic dim's slice length is only known for the full range.
      if (starts[d] != 0 || stops[d] != INT64_MAX || steps[d] != 1) {
        return ctx.error(where + ": a symbolic dim can only be sliced whole (0:INT64_MAX:1)");
      }
      length = in[d];
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
}

}  // namespace kiln
