// Quantization op schemas over GGML block formats. A quantized weight is a uint8 tensor of packed
// blocks: [rows, blocks_per_row * block_bytes], each block holding a fixed number of elements.
//   dequantize: uint8 [..., packed] -> float32 [..., packed / block_bytes * block_elements]
//   qmatmul:    float32 [..., M, K] x uint8 [N, packed of K] -> float32 [..., M, N]
//               (the weight is stored transposed, one row per output column, as MAX does)
// The encoding is the string attribute "encoding": q4_0, q4_k, q6_k or q8_0.
#include <string>

#include "ops/op_table.h"

namespace kiln {
namespace {

struct BlockFormat {
  std::string_view name;
  int64_t elements;
  int64_t bytes;
};

constexpr BlockFormat kFormats[] = {
    {"q4_0", 32, 18},
    {"q8_0", 32, 34},
    {"q4_k", 256, 144},
    {"q6_k", 256, 210},
};

StatusOr<BlockFormat> encoding_attr(const OpContext& ctx) {
  KILN_ASSIGN_OR_RETURN(std::string name, get_string_attr(ctx.node, "encoding"));
  for (const BlockFormat& f : kFormats) {
    if (f.name == name) return f;
  }
  return ctx.error("attribute 'encoding' is '" + name +
                   "'; supported encodings are q4_0, q4_k, q6_k and q8_0");
}

Status check_packed(const OpContext& ctx, size_t index, const BlockFormat& format) {
  const TensorType& t = ctx.input(index);
  if (t.dtype != DType::kUInt8) {
    return ctx.error(ctx.operand(index) + " has dtype " + dtype_name(t.dtype) + "; packed " +
                     std::string(format.name) + " blocks are uint8");
  }
  const Dim& packed = t.shape.back();
  if (!packed.is_static() || packed.value() % format.bytes != 0 ||
      packed.value() > (int64_t{1} << 48)) {
    return ctx.error(ctx.operand(index) + " has " + packed.to_string() + " bytes per row (shape " +
                     shape_to_string(t.shape) + "), not a multiple of " + std::string(format.name) +
                     "'s " + std::to_string(format.bytes) + "-byte block");
  }
  return Status::ok();
}

StatusOr<std::vector<TensorType>> infer_dequantize(const OpContext& ctx) {
  KILN_ASSIGN_OR_RETURN(BlockFormat format, encoding_attr(ctx));
  KILN_RETURN_IF_ERROR(ctx.check_min_rank(0, 1));
  KILN_RETURN_IF_ERROR(check_packed(ctx, 0, format));
  Shape shape = ctx.input(0).shape;
  shape.back() = Dim(shape.back().value() / format.bytes * format.elements);
  return single_output(DType::kFloat32, std::move(shape));
}

StatusOr<std::vector<TensorType>> infer_qmatmul(const OpContext& ctx) {
  KILN_ASSIGN_OR_RETURN(BlockFormat format, encoding_attr(ctx));
  const TensorType& lhs = ctx.input(0);
  if (lhs.dtype != DType::kFloat32) {
    return ctx.error(ctx.operand(0) + " has dtype " + dtype_name(lhs.dtype) +
                     "; qmatmul needs float32");
  }
  KILN_RETURN_IF_ERROR(ctx.check_min_rank(0, 2));
  const Shape& rhs = ctx.input(1).shape;
  if (rhs.size() != 2) {
    return ctx.error(ctx.operand(1) + " has rank " + std::to_string(rhs.size()) + " (shape " +
                     shape_to_string(rhs) + "); the packed weight must be [N, packed bytes]");
  }
  KILN_RETURN_IF_ERROR(check_packed(ctx, 1, format));
  const int64_t k = rhs[1].value() / format.bytes * format.elements;
  if (lhs.shape.back() != Dim(k)) {
    return ctx.error(ctx.operand(0) + " has shape " + shape_to_string(lhs.shape) + " but K is " +
                     std::to_string(k) + " (" + std::to_string(rhs[1].value()) + " bytes of " +
                     std::string(format.name) + " per row of " + ctx.operand(1) + " " +
                     shape_to_string(rhs) + ")");
  }
  Shape shape = lhs.shape;
  shape.back() = rhs[0];
  return single_output(DType::kFloat32, std::move(shape));
}

}  // namespace

void add_quant_schemas(std::vector<OpSchema>& out) {
  out.push_back(
      {"dequantize", 1, 1, {"quantized"}, {"encoding"}, DtypeClass::kAny, infer_dequantize});
  out.push_back({"qmatmul", 2, 2, {"lhs", "rhs"}, {"encoding"}, DtypeClass::kAny, infer_qmatmul});
}

}  // namespace kiln
