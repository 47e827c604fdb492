// Internal to ops/: the schema table entry, the context an inference function sees, and the
// checks shared by every op family (operand names, dtype classes, axes, broadcasting).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "ir/graph.h"

namespace kiln {

// Which dtypes an operand accepts.
enum class DtypeClass {
  kAny,            // every valid dtype, float8 included (cast)
  kFloat,          // float16, bfloat16, float32, float64
  kNumeric,        // kFloat and every integer dtype
  kNumericOrBool,  // kNumeric and bool
};

struct OpSchema;

// What an inference function sees. Errors built through it are prefixed with the node
// ("matmul 'mm1': ...") and operands are named by position and role ("operand 1 (rhs)").
struct OpContext {
  const Node& node;
  const std::vector<TensorType>& inputs;
  const OpSchema& schema;

  Status error(const std::string& message) const;
  std::string operand(size_t index) const;
  const TensorType& input(size_t index) const { return inputs[index]; }

  // Errors unless operand `index` has a dtype of class `dtypes`.
  Status check_dtype(size_t index, DtypeClass dtypes) const;
  // Errors unless operands a and b have the same dtype.
  Status check_same_dtype(size_t a, size_t b) const;
  // Errors unless operand `index` has rank at least `min_rank`.
  Status check_min_rank(size_t index, size_t min_rank) const;
  // Maps an axis attribute value in [-rank, rank) to [0, rank); `what` names it in errors
  // ("attribute 'axis'").
  StatusOr<size_t> normalize_axis(int64_t axis, size_t rank, const std::string& what) const;
  // Numpy broadcasting of the shapes of the listed operands.
  StatusOr<Shape> broadcast(const std::vector<size_t>& operands) const;
};

using InferFn = StatusOr<std::vector<TensorType>> (*)(const OpContext& ctx);

struct OpSchema {
  std::string_view name;
  size_t min_inputs;
  size_t max_inputs;
  // Role of each operand ("lhs", "rhs"); shorter than max_inputs for variadic ops, whose extra
  // operands are named by position only.
  std::vector<std::string_view> operands;
  // Attribute names the op accepts; any other is an error (a misspelt attribute never silently
  // falls back to a default).
  std::vector<std::string_view> attrs;
  // The dtype class of the op's main operands; what "main" means is up to `infer`.
  DtypeClass dtypes;
  InferFn infer;
};

// One output of the given type (the usual case).
inline std::vector<TensorType> single_output(DType dtype, Shape shape) {
  std::vector<TensorType> out(1);
  out[0].dtype = dtype;
  out[0].shape = std::move(shape);
  return out;
}

// Broadcasting of two dims: equal, or one of them static 1. nullopt if incompatible.
std::optional<Dim> broadcast_dim(const Dim& a, const Dim& b);
// The shape of operands joined along attribute 'axis' (concat, allgather): one dtype and rank,
// dims equal off the axis, the axis dims summed. `what` names the axis in errors ("concat").
StatusOr<Shape> joined_shape(const OpContext& ctx, const std::string& what);
// A flag attribute given as a bool or as an int 0/1.
StatusOr<bool> get_flag_attr(const OpContext& ctx, const std::string& name, bool default_value);
// Parses a shape attribute given as INTS or as a STRING of comma-separated dim expressions.
// Entries equal to -1 come back as nullopt when allow_infer, else they are an error.
StatusOr<std::vector<std::optional<Dim>>> parse_shape_attr(const OpContext& ctx,
                                                           const std::string& name,
                                                           bool allow_infer);

// The families, each in its own file.
void add_elementwise_schemas(std::vector<OpSchema>& out);
void add_shape_schemas(std::vector<OpSchema>& out);
void add_indexing_schemas(std::vector<OpSchema>& out);
void add_reduction_schemas(std::vector<OpSchema>& out);
void add_nn_schemas(std::vector<OpSchema>& out);
void add_fused_schemas(std::vector<OpSchema>& out);  // core/src/passes/fused_ops.cpp
void add_conv_schemas(std::vector<OpSchema>& out);
void add_signal_schemas(std::vector<OpSchema>& out);
void add_quant_schemas(std::vector<OpSchema>& out);
void add_misc_schemas(std::vector<OpSchema>& out);        // nonzero, transfer_to
void add_collective_schemas(std::vector<OpSchema>& out);  // allgather

// max/min with one input are reductions; elementwise_ops.cpp dispatches to this.
StatusOr<std::vector<TensorType>> infer_reduction(const OpContext& ctx);

}  // namespace kiln
