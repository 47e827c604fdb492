// Convolution and pooling op schemas with MAX's layouts: channels-last inputs (NHWC, NDHWC),
// filters RSCF / QRSCF (spatial dims, input channels per group, output channels), and
// conv2d_transpose's filter (kH, kW, out_channels, in_channels). Spatial sizes follow
//   out = (in + pad_before + pad_after - dilation * (k - 1) - 1) / stride + 1
// and a symbolic spatial dim is only accepted where the result stays a polynomial (stride 1 for
// convolution and pooling; any stride for the transpose).
#include <string>

#include "ops/op_table.h"

namespace kiln {
namespace {

// An ints attribute of `count` entries; a single entry is replicated, a missing attribute is
// `fallback` everywhere. Entries must be >= min_value.
StatusOr<std::vector<int64_t>> spatial_ints(const OpContext& ctx, const std::string& name,
                                            size_t count, int64_t fallback, int64_t min_value) {
  std::vector<int64_t> values(count, fallback);
  if (find_attr(ctx.node, name) != nullptr) {
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> given, get_ints_attr(ctx.node, name));
    if (given.size() == 1) {
      values.assign(count, given[0]);
    } else if (given.size() == count) {
      values = given;
    } else {
      return ctx.error("attribute '" + name + "' has " + std::to_string(given.size()) +
                       " entries; it needs 1 or " + std::to_string(count));
    }
  }
  for (size_t i = 0; i < count; ++i) {
    // The cap keeps products such as dilation * (kernel - 1) far from int64 overflow.
    if (values[i] < min_value || values[i] > (int64_t{1} << 24)) {
      return ctx.error("attribute '" + name + "' entry " + std::to_string(i) + " is " +
                       std::to_string(values[i]) + "; it must be in [" + std::to_string(min_value) +
                       ", 2^24]");
    }
  }
  return values;
}

StatusOr<bool> flag_attr(const OpContext& ctx, const std::string& name) {
  KILN_ASSIGN_OR_RETURN(int64_t v, get_int_attr(ctx.node, name, 0));
  if (v != 0 && v != 1) {
    return ctx.error("attribute '" + name + "' is " + std::to_string(v) + "; it must be 0 or 1");
  }
  return v == 1;
}

Status check_rank(const OpContext& ctx, size_t index, size_t rank, const char* layout) {
  const Shape& s = ctx.input(index).shape;
  if (s.size() == rank) return Status::ok();
  return ctx.error(ctx.operand(index) + " has rank " + std::to_string(s.size()) + " (shape " +
                   shape_to_string(s) + "); " + ctx.node.op + " needs rank " +
                   std::to_string(rank) + " (" + layout + ")");
}

Status check_static(const OpContext& ctx, size_t index) {
  for (const Dim& d : ctx.input(index).shape) {
    if (!d.is_static()) {
      return ctx.error(ctx.operand(index) + " has shape " +
                       shape_to_string(ctx.input(index).shape) + "; its dims must be static");
    }
  }
  return Status::ok();
}

// One spatial output dim of a sliding window (convolution, pooling).
StatusOr<Dim> window_dim(const OpContext& ctx, size_t axis, const Dim& in, int64_t kernel,
                         int64_t stride, int64_t dilation, int64_t pad_before, int64_t pad_after,
                         bool ceil_mode) {
  const int64_t span = dilation * (kernel - 1) + 1;
  const std::string where = "spatial dim " + std::to_string(axis) + " (" + in.to_string() + ")";
  if (!in.is_static()) {
    if (stride != 1) {
      return ctx.error(where + " is symbolic, which needs stride 1 (got " + std::to_string(stride) +
                       ")");
    }
    return in + Dim(pad_before + pad_after - span + 1);
  }
  if (in.value() > (int64_t{1} << 48)) return ctx.error(where + " is too large");
  const int64_t padded = in.value() + pad_before + pad_after;
  if (padded < span) {
    return ctx.error(where + " padded to " + std::to_string(padded) +
                     " is smaller than the window (" + std::to_string(span) + " with dilation)");
  }
  int64_t out = (padded - span) / stride + 1;
  if (ceil_mode && (padded - span) % stride != 0) {
    ++out;
    // The last window must start inside the input or its leading padding.
    if ((out - 1) * stride >= in.value() + pad_before) --out;
  }
  return Dim(out);
}

StatusOr<std::vector<TensorType>> infer_conv(const OpContext& ctx, size_t spatial) {
  const char* layout = spatial == 2 ? "NHWC input, RSCF filter" : "NDHWC input, QRSCF filter";
  KILN_RETURN_IF_ERROR(ctx.check_dtype(0, DtypeClass::kFloat));
  KILN_RETURN_IF_ERROR(ctx.check_same_dtype(0, 1));
  KILN_RETURN_IF_ERROR(check_rank(ctx, 0, spatial + 2, layout));
  KILN_RETURN_IF_ERROR(check_rank(ctx, 1, spatial + 2, layout));
  KILN_RETURN_IF_ERROR(check_static(ctx, 1));
  const Shape& x = ctx.input(0).shape;
  const Shape& f = ctx.input(1).shape;
  KILN_ASSIGN_OR_RETURN(int64_t groups, get_int_attr(ctx.node, "groups", 1));
  if (groups < 1 || groups > (int64_t{1} << 24)) {
    return ctx.error("attribute 'groups' is " + std::to_string(groups) +
                     "; it must be in [1, 2^24]");
  }
  const int64_t group_in = f[spatial].value();
  if (group_in > (int64_t{1} << 36)) {
    return ctx.error(ctx.operand(1) + " has " + std::to_string(group_in) +
                     " input channels per group, too many");
  }
  const int64_t out_channels = f[spatial + 1].value();
  if (out_channels % groups != 0) {
    return ctx.error(ctx.operand(1) + " has " + std::to_string(out_channels) +
                     " output channels, not divisible by groups " + std::to_string(groups));
  }
  if (x[spatial + 1] != Dim(group_in * groups)) {
    return ctx.error(ctx.operand(0) + " has " + x[spatial + 1].to_string() +
                     " channels but filter " + shape_to_string(f) + " with groups " +
                     std::to_string(groups) + " needs " + std::to_string(group_in * groups));
  }
  if (ctx.inputs.size() == 3) {
    KILN_RETURN_IF_ERROR(ctx.check_same_dtype(0, 2));
    const Shape& b = ctx.input(2).shape;
    if (b.size() != 1 || b[0] != Dim(out_channels)) {
      return ctx.error(ctx.operand(2) + " has shape " + shape_to_string(b) + " but must be [" +
                       std::to_string(out_channels) + "] (the filter's output channels)");
    }
  }
  KILN_ASSIGN_OR_RETURN(auto stride, spatial_ints(ctx, "stride", spatial, 1, 1));
  KILN_ASSIGN_OR_RETURN(auto dilation, spatial_ints(ctx, "dilation", spatial, 1, 1));
  KILN_ASSIGN_OR_RETURN(auto padding, spatial_ints(ctx, "padding", 2 * spatial, 0, 0));
  Shape out{x[0]};
  for (size_t i = 0; i < spatial; ++i) {
    KILN_ASSIGN_OR_RETURN(Dim d, window_dim(ctx, i, x[1 + i], f[i].value(), stride[i], dilation[i],
                                            padding[2 * i], padding[2 * i + 1], false));
    out.push_back(std::move(d));
  }
  out.push_back(Dim(out_channels));
  return single_output(ctx.input(0).dtype, std::move(out));
}

StatusOr<std::vector<TensorType>> infer_conv2d(const OpContext& ctx) { return infer_conv(ctx, 2); }
StatusOr<std::vector<TensorType>> infer_conv3d(const OpContext& ctx) { return infer_conv(ctx, 3); }

StatusOr<std::vector<TensorType>> infer_conv2d_transpose(const OpContext& ctx) {
  const char* layout = "NHWC input, (kH, kW, out_channels, in_channels) filter";
  KILN_RETURN_IF_ERROR(ctx.check_dtype(0, DtypeClass::kFloat));
  KILN_RETURN_IF_ERROR(ctx.check_same_dtype(0, 1));
  KILN_RETURN_IF_ERROR(check_rank(ctx, 0, 4, layout));
  KILN_RETURN_IF_ERROR(check_rank(ctx, 1, 4, layout));
  KILN_RETURN_IF_ERROR(check_static(ctx, 1));
  const Shape& x = ctx.input(0).shape;
  const Shape& f = ctx.input(1).shape;
  const int64_t out_channels = f[2].value();
  if (x[3] != f[3]) {
    return ctx.error(ctx.operand(0) + " has " + x[3].to_string() + " channels but filter " +
                     shape_to_string(f) + " takes " + f[3].to_string() + " (its last dim)");
  }
  if (ctx.inputs.size() == 3) {
    KILN_RETURN_IF_ERROR(ctx.check_same_dtype(0, 2));
    const Shape& b = ctx.input(2).shape;
    if (b.size() != 1 || b[0] != Dim(out_channels)) {
      return ctx.error(ctx.operand(2) + " has shape " + shape_to_string(b) + " but must be [" +
                       std::to_string(out_channels) + "] (the filter's output channels)");
    }
  }
  KILN_ASSIGN_OR_RETURN(auto stride, spatial_ints(ctx, "stride", 2, 1, 1));
  KILN_ASSIGN_OR_RETURN(auto dilation, spatial_ints(ctx, "dilation", 2, 1, 1));
  KILN_ASSIGN_OR_RETURN(auto padding, spatial_ints(ctx, "padding", 4, 0, 0));
  KILN_ASSIGN_OR_RETURN(auto output_paddings, spatial_ints(ctx, "output_paddings", 2, 0, 0));
  Shape out{x[0]};
  for (size_t i = 0; i < 2; ++i) {
    if (output_paddings[i] != 0) {
      return ctx.error("attribute 'output_paddings' entry " + std::to_string(i) + " is " +
                       std::to_string(output_paddings[i]) + "; only 0 is supported");
    }
    // (in - 1) * stride - pads + dilation * (k - 1) + 1, a polynomial even for symbolic `in`.
    const int64_t extra =
        -stride[i] - padding[2 * i] - padding[2 * i + 1] + dilation[i] * (f[i].value() - 1) + 1;
    const Dim& in = x[1 + i];
    if (in.is_static()) {
      if (in.value() > (int64_t{1} << 36)) {
        return ctx.error("spatial dim " + std::to_string(i) + " (" + in.to_string() +
                         ") is too large");
      }
      const int64_t size = in.value() * stride[i] + extra;
      if (in.value() > 0 && size < 1) {
        return ctx.error("spatial dim " + std::to_string(i) + " (" + in.to_string() +
                         ") gives output size " + std::to_string(size) + "; padding too large");
      }
      out.push_back(Dim(in.value() == 0 ? 0 : size));
    } else {
      out.push_back(in * Dim(stride[i]) + Dim(extra));
    }
  }
  out.push_back(Dim(out_channels));
  return single_output(ctx.input(0).dtype, std::move(out));
}

StatusOr<std::vector<TensorType>> infer_pool(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(ctx.check_dtype(0, DtypeClass::kFloat));
  KILN_RETURN_IF_ERROR(check_rank(ctx, 0, 4, "NHWC input"));
  const Shape& x = ctx.input(0).shape;
  if (find_attr(ctx.node, "kernel_size") == nullptr) {
    return ctx.error("missing required attribute 'kernel_size'");
  }
  KILN_ASSIGN_OR_RETURN(auto kernel, spatial_ints(ctx, "kernel_size", 2, 1, 1));
  KILN_ASSIGN_OR_RETURN(auto stride, spatial_ints(ctx, "stride", 2, 1, 1));
  KILN_ASSIGN_OR_RETURN(auto dilation, spatial_ints(ctx, "dilation", 2, 1, 1));
  KILN_ASSIGN_OR_RETURN(auto padding, spatial_ints(ctx, "padding", 2, 0, 0));
  KILN_ASSIGN_OR_RETURN(bool ceil_mode, flag_attr(ctx, "ceil_mode"));
  if (ctx.node.op == "avg_pool2d") {
    KILN_RETURN_IF_ERROR(flag_attr(ctx, "count_boundary").status());
  }
  Shape out{x[0]};
  for (size_t i = 0; i < 2; ++i) {
    if (padding[i] > kernel[i] / 2) {
      return ctx.error("attribute 'padding' entry " + std::to_string(i) + " is " +
                       std::to_string(padding[i]) + "; it must be at most half the kernel size " +
                       std::to_string(kernel[i]));
    }
    KILN_ASSIGN_OR_RETURN(Dim d, window_dim(ctx, i, x[1 + i], kernel[i], stride[i], dilation[i],
                                            padding[i], padding[i], ceil_mode));
    out.push_back(std::move(d));
  }
  out.push_back(x[3]);
  return single_output(ctx.input(0).dtype, std::move(out));
}

}  // namespace

void add_conv_schemas(std::vector<OpSchema>& out) {
  for (const char* name : {"conv2d", "conv3d"}) {
    out.push_back({name,
                   2,
                   3,
                   {"input", "filter", "bias"},
                   {"stride", "dilation", "padding", "groups"},
                   DtypeClass::kFloat,
                   std::string_view(name) == "conv2d" ? infer_conv2d : infer_conv3d});
  }
  out.push_back({"conv2d_transpose",
                 2,
                 3,
                 {"input", "filter", "bias"},
                 {"stride", "dilation", "padding", "output_paddings"},
                 DtypeClass::kFloat,
                 infer_conv2d_transpose});
  out.push_back({"max_pool2d",
                 1,
                 1,
                 {"input"},
                 {"kernel_size", "stride", "dilation", "padding", "ceil_mode"},
                 DtypeClass::kFloat,
                 infer_pool});
  out.push_back({"avg_pool2d",
                 1,
                 1,
                 {"input"},
                 {"kernel_size", "stride", "dilation", "padding", "ceil_mode", "count_boundary"},
                 DtypeClass::kFloat,
                 infer_pool});
}

}  // namespace kiln
