// Signal op schemas: irfft over an axis of an interleaved-complex input ([..., 2], the last dim
// holding (real, imag)); the output is real, with the axis replaced by the attribute "n".
// resize interpolates the H and W dims of an NCHW input to the attribute "shape".
// as_interleaved_complex views [..., 2n] of alternating (real, imag) as [..., n, 2];
// hann_window has no operands: a 1-D window of the attribute "window_length" values.
#include <optional>
#include <string>

#include "ops/op_table.h"

namespace kiln {
namespace {

StatusOr<std::vector<TensorType>> infer_irfft(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(ctx.check_dtype(0, DtypeClass::kFloat));
  const Shape& x = ctx.input(0).shape;
  if (x.size() < 2 || x.back() != Dim(2)) {
    return ctx.error(ctx.operand(0) + " has shape " + shape_to_string(x) +
                     "; irfft needs interleaved complex values, a last dim of 2 after at least "
                     "one other dim");
  }
  KILN_ASSIGN_OR_RETURN(int64_t axis_attr, get_int_attr(ctx.node, "axis", -1));
  KILN_ASSIGN_OR_RETURN(size_t axis,
                        ctx.normalize_axis(axis_attr, x.size() - 1, "attribute 'axis'"));
  KILN_ASSIGN_OR_RETURN(int64_t n, get_int_attr(ctx.node, "n"));
  if (n < 1 || n > (int64_t{1} << 32)) {
    return ctx.error("attribute 'n' is " + std::to_string(n) + "; it must be in [1, 2^32]");
  }
  KILN_ASSIGN_OR_RETURN(std::string norm,
                        get_string_attr(ctx.node, "normalization", std::string("backward")));
  if (norm != "backward" && norm != "ortho" && norm != "forward") {
    return ctx.error("attribute 'normalization' is '" + norm +
                     "'; it must be backward, ortho or forward");
  }
  Shape shape(x.begin(), x.end() - 1);
  shape[axis] = Dim(n);
  return single_output(ctx.input(0).dtype, std::move(shape));
}

StatusOr<std::vector<TensorType>> infer_resize(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(ctx.check_dtype(0, DtypeClass::kFloat));
  const Shape& x = ctx.input(0).shape;
  if (x.size() != 4) {
    return ctx.error(ctx.operand(0) + " has rank " + std::to_string(x.size()) + " (shape " +
                     shape_to_string(x) + "); resize needs rank 4 (NCHW)");
  }
  KILN_ASSIGN_OR_RETURN(std::string mode,
                        get_string_attr(ctx.node, "interpolation", std::string("bilinear")));
  if (mode != "bicubic" && mode != "bilinear" && mode != "nearest") {
    return ctx.error("attribute 'interpolation' is '" + mode +
                     "'; it must be bicubic, bilinear or nearest");
  }
  KILN_ASSIGN_OR_RETURN(auto dims, parse_shape_attr(ctx, "shape", false));
  if (dims.size() != 4) {
    return ctx.error("attribute 'shape' has " + std::to_string(dims.size()) +
                     " dims; resize needs 4 (NCHW)");
  }
  Shape shape;
  for (size_t d = 0; d < 4; ++d) shape.push_back(*dims[d]);
  for (size_t d = 0; d < 2; ++d) {
    if (shape[d] != x[d]) {
      return ctx.error("attribute 'shape' dim " + std::to_string(d) + " is " +
                       shape[d].to_string() + " but the input's is " + x[d].to_string() +
                       " (only H and W are resized)");
    }
  }
  for (size_t d = 2; d < 4; ++d) {
    if (!shape[d].is_static() || !x[d].is_static()) {
      return ctx.error("dim " + std::to_string(d) + " of the input " + shape_to_string(x) +
                       " and of attribute 'shape' " + shape_to_string(shape) + " must be static");
    }
    if (shape[d].value() > 0 && x[d].value() == 0) {
      return ctx.error("dim " + std::to_string(d) + " of the input is 0; nothing to resize from");
    }
  }
  return single_output(ctx.input(0).dtype, std::move(shape));
}

StatusOr<std::vector<TensorType>> infer_as_interleaved_complex(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(ctx.check_dtype(0, DtypeClass::kFloat));
  const Shape& x = ctx.input(0).shape;
  if (x.empty()) {
    return ctx.error(ctx.operand(0) +
                     " is a scalar; as_interleaved_complex needs rank >= 1, a last dim holding "
                     "(real, imag) pairs");
  }
  const std::optional<Dim> half = x.back().divide_exact(Dim(2));
  if (!half) {
    return ctx.error(ctx.operand(0) + " has shape " + shape_to_string(x) + "; its last dim " +
                     x.back().to_string() +
                     (x.back().is_static() ? " is odd" : " is not known to be even") +
                     "; it must be even, holding (real, imag) pairs");
  }
  Shape shape(x.begin(), x.end() - 1);
  shape.push_back(*half);
  shape.push_back(Dim(2));
  return single_output(ctx.input(0).dtype, std::move(shape));
}

StatusOr<std::vector<TensorType>> infer_hann_window(const OpContext& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t length, get_int_attr(ctx.node, "window_length"));
  if (length < 0 || length > (int64_t{1} << 32)) {
    return ctx.error("attribute 'window_length' is " + std::to_string(length) +
                     "; it must be in [0, 2^32]");
  }
  KILN_RETURN_IF_ERROR(get_flag_attr(ctx, "periodic", true).status());
  DType dtype = DType::kFloat32;
  if (find_attr(ctx.node, "dtype") != nullptr) {
    KILN_ASSIGN_OR_RETURN(dtype, get_dtype_attr(ctx.node, "dtype"));
  }
  if (dtype != DType::kFloat16 && dtype != DType::kBFloat16 && dtype != DType::kFloat32 &&
      dtype != DType::kFloat64) {
    return ctx.error("attribute 'dtype' is " + std::string(dtype_name(dtype)) +
                     "; the window needs a float dtype (float16, bfloat16, float32, float64)");
  }
  return single_output(dtype, Shape{Dim(length)});
}

}  // namespace

void add_signal_schemas(std::vector<OpSchema>& out) {
  out.push_back(
      {"irfft", 1, 1, {"input"}, {"n", "axis", "normalization"}, DtypeClass::kFloat, infer_irfft});
  out.push_back(
      {"resize", 1, 1, {"input"}, {"shape", "interpolation"}, DtypeClass::kFloat, infer_resize});
  out.push_back({"as_interleaved_complex",
                 1,
                 1,
                 {"x"},
                 {},
                 DtypeClass::kFloat,
                 infer_as_interleaved_complex});
  out.push_back({"hann_window",
                 0,
                 0,
                 {},
                 {"window_length", "periodic", "dtype"},
                 DtypeClass::kFloat,
                 infer_hann_window});
}

}  // namespace kiln
