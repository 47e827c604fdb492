// Op schemas: type and shape inference of every core op, symbolic dims included, and each error.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>

#include "ops/op_schema.h"

namespace kiln {
namespace {

constexpr DType F32 = DType::kFloat32;
constexpr DType I32 = DType::kInt32;
constexpr DType I64 = DType::kInt64;
constexpr DType BOOL = DType::kBool;

Dim sym(const char* text) { return Dim::parse(text).value(); }

TensorType T(DType dtype, Shape shape) {
  TensorType t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  return t;
}

Attribute A(int64_t v) { return Attribute{v}; }
Attribute A(double v) { return Attribute{v}; }
Attribute A(const char* v) { return Attribute{std::string(v)}; }
Attribute Ints(std::vector<int64_t> v) { return Attribute{std::move(v)}; }
Attribute A(DType v) { return Attribute{v}; }

StatusOr<std::vector<TensorType>> infer(const std::string& op, std::vector<TensorType> inputs,
                                        AttrMap attrs = {}, const std::string& name = "n1") {
  Node node;
  node.op = op;
  node.name = name;
  node.attrs = std::move(attrs);
  return infer_output_types(node, inputs);
}

// The single output type, or a failure naming the status.
TensorType infer_one(const std::string& op, std::vector<TensorType> inputs, AttrMap attrs = {}) {
  auto out = infer(op, std::move(inputs), std::move(attrs));
  EXPECT_TRUE(out.is_ok()) << op << ": " << out.status().to_string();
  if (!out.is_ok() || out->size() != 1) return T(DType::kInvalid, {});
  return (*out)[0];
}

// The error message; fails the test if inference succeeded.
std::string infer_error(const std::string& op, std::vector<TensorType> inputs, AttrMap attrs = {}) {
  auto out = infer(op, std::move(inputs), std::move(attrs));
  EXPECT_FALSE(out.is_ok()) << op << " unexpectedly gave " << (*out)[0].to_string();
  return out.is_ok() ? "" : out.status().message();
}

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "message: " << (text)

TEST(OpsRegistryTest, NamesAndKinds) {
  const auto names = core_op_names();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  for (const char* op :
       {"add",     "sub",          "mul",     "div",          "pow",     "max",
        "min",     "equal",        "greater", "negate",       "abs",     "exp",
        "log",     "sqrt",         "rsqrt",   "relu",         "sigmoid", "tanh",
        "silu",    "gelu",         "cast",    "matmul",       "reshape", "transpose",
        "permute", "broadcast_to", "concat",  "slice_tensor", "gather",  "sum",
        "mean",    "argmax",       "softmax", "layer_norm",   "where",   "constant"}) {
    EXPECT_TRUE(is_core_op(op)) << op;
    EXPECT_NE(std::find(names.begin(), names.end(), op), names.end()) << op;
  }
  EXPECT_FALSE(is_core_op("my_custom_op"));
  EXPECT_TRUE(is_host_handled_op("constant"));
  EXPECT_TRUE(is_host_handled_op("reshape"));  // a view of the contiguous input
  EXPECT_FALSE(is_host_handled_op("add"));
}

TEST(OpsRegistryTest, GenericErrors) {
  auto unknown = infer("frobnicate", {T(F32, {2})});
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_CONTAINS(unknown.status().message(), "unknown op 'frobnicate' in node 'n1'");
  EXPECT_CONTAINS(infer_error("add", {T(F32, {2})}), "add 'n1': takes 2 inputs (lhs, rhs), got 1");
  EXPECT_CONTAINS(infer_error("softmax", {T(F32, {2})}, {{"axes", A(int64_t{0})}}),
                  "unknown attribute 'axes' (softmax accepts axis)");
  EXPECT_CONTAINS(infer_error("relu", {T(F32, {2})}, {{"axis", A(int64_t{0})}}),
                  "accepts no attributes");
  EXPECT_CONTAINS(infer_error("softmax", {T(F32, {2})}, {{"axis", A("last")}}),
                  "attribute 'axis' must be an int, got string");
  EXPECT_CONTAINS(infer_error("relu", {T(static_cast<DType>(99), {2})}), "unknown dtype code 99");
  EXPECT_CONTAINS(infer_error("relu", {T(F32, {Dim(-2)})}), "negative dim");
  EXPECT_CONTAINS(infer_error("concat", {}), "takes at least 1 input");
}

TEST(OpsRegistryTest, OutputsTakeTheNodeOrInputDevice) {
  TensorType x = T(F32, {2});
  x.device = "gpu:0";
  EXPECT_EQ(infer_one("relu", {x}).device, "gpu:0");
  Node node;
  node.op = "relu";
  node.name = "r";
  node.device = "cpu";
  EXPECT_EQ(infer_output_types(node, {x}).value()[0].device, "cpu");
}

TEST(OpsRegistryTest, ResolveOutputTypes) {
  Node node;
  node.op = "add";
  node.name = "a1";
  const std::vector<TensorType> in = {T(F32, {2, 3}), T(F32, {3})};
  EXPECT_TRUE(resolve_output_types(node, in, {}).is_ok());
  EXPECT_TRUE(resolve_output_types(node, in, {T(F32, {2, 3})}).is_ok());
  auto mismatch = resolve_output_types(node, in, {T(F32, {3, 3})});
  ASSERT_FALSE(mismatch.is_ok());
  EXPECT_CONTAINS(mismatch.status().message(),
                  "add 'a1': output 0 is stated as float32[3, 3] but inference gives "
                  "float32[2, 3]");
  EXPECT_FALSE(resolve_output_types(node, in, {T(F32, {2, 3}), T(F32, {2, 3})}).is_ok());
  node.op = "my_op";
  EXPECT_CONTAINS(resolve_output_types(node, in, {}).status().message(),
                  "needs its output types stated");
  EXPECT_EQ(resolve_output_types(node, in, {T(I32, {7})}).value()[0], T(I32, {7}));
}

TEST(ElementwiseOpsTest, BinaryBroadcasting) {
  EXPECT_EQ(infer_one("add", {T(F32, {2, 3}), T(F32, {3})}), T(F32, {2, 3}));
  EXPECT_EQ(infer_one("mul", {T(F32, {sym("batch"), 1}), T(F32, {1, sym("seq")})}),
            T(F32, {sym("batch"), sym("seq")}));
  EXPECT_EQ(infer_one("sub", {T(I64, {}), T(I64, {4, 1})}), T(I64, {4, 1}));
  EXPECT_EQ(infer_one("pow", {T(F32, {5, 1, 3}), T(F32, {4, 1})}), T(F32, {5, 4, 3}));
  EXPECT_EQ(infer_one("max", {T(F32, {2}), T(F32, {2})}), T(F32, {2}));
  EXPECT_EQ(infer_one("min", {T(I32, {2, 1}), T(I32, {3})}), T(I32, {2, 3}));
  // Both spellings of one symbolic dim are the same dim.
  EXPECT_EQ(infer_one("add", {T(F32, {sym("2*b")}), T(F32, {sym("b+b")})}), T(F32, {sym("2*b")}));
}

TEST(ElementwiseOpsTest, BinaryErrors) {
  EXPECT_CONTAINS(infer_error("add", {T(F32, {2}), T(I32, {2})}),
                  "add 'n1': operand 1 (rhs) has dtype int32 but operand 0 (lhs) has float32");
  EXPECT_CONTAINS(infer_error("add", {T(F32, {2, 3}), T(F32, {4, 3})}),
                  "operand 0 (lhs) shape [2, 3] and operand 1 (rhs) shape [4, 3] do not "
                  "broadcast: 2 vs 4");
  EXPECT_CONTAINS(infer_error("add", {T(F32, {sym("batch")}), T(F32, {sym("seq")})}),
                  "batch vs seq");
  EXPECT_CONTAINS(infer_error("add", {T(BOOL, {2}), T(BOOL, {2})}), "needs a numeric dtype");
  EXPECT_CONTAINS(infer_error("div", {T(DType::kFloat8E4M3FN, {2}), T(DType::kFloat8E4M3FN, {2})}),
                  "float8_e4m3fn");
}

TEST(ElementwiseOpsTest, Comparisons) {
  EXPECT_EQ(infer_one("equal", {T(F32, {2, 3}), T(F32, {3})}), T(BOOL, {2, 3}));
  EXPECT_EQ(infer_one("equal", {T(BOOL, {2}), T(BOOL, {2})}), T(BOOL, {2}));
  EXPECT_EQ(infer_one("greater", {T(I64, {sym("n")}), T(I64, {1})}), T(BOOL, {sym("n")}));
  EXPECT_CONTAINS(infer_error("greater", {T(BOOL, {2}), T(BOOL, {2})}), "numeric");
  EXPECT_CONTAINS(infer_error("equal", {T(F32, {2}), T(I32, {2})}), "dtype int32");
}

TEST(ElementwiseOpsTest, Unary) {
  for (const char* op : {"exp", "log", "sqrt", "rsqrt", "sigmoid", "tanh", "silu", "gelu"}) {
    EXPECT_EQ(infer_one(op, {T(DType::kBFloat16, {sym("b"), 4})}),
              T(DType::kBFloat16, {sym("b"), 4}))
        << op;
    EXPECT_CONTAINS(infer_error(op, {T(I32, {2})}), "needs a float dtype");
  }
  for (const char* op : {"negate", "abs", "relu"}) {
    EXPECT_EQ(infer_one(op, {T(I32, {3})}), T(I32, {3})) << op;
    EXPECT_EQ(infer_one(op, {T(DType::kFloat16, {3})}), T(DType::kFloat16, {3})) << op;
    EXPECT_CONTAINS(infer_error(op, {T(BOOL, {3})}), "operand 0 (x) has dtype bool");
  }
  EXPECT_EQ(infer_one("gelu", {T(F32, {2})}, {{"approximate", A("tanh")}}), T(F32, {2}));
  EXPECT_CONTAINS(infer_error("gelu", {T(F32, {2})}, {{"approximate", A("fast")}}),
                  "attribute 'approximate' is 'fast'; it must be 'none' or 'tanh'");
  EXPECT_CONTAINS(infer_error("exp", {T(DType::kFloat8E5M2, {2})}), "needs a float dtype");
}

TEST(ElementwiseOpsTest, Cast) {
  EXPECT_EQ(infer_one("cast", {T(F32, {sym("b"), 2})}, {{"dtype", A(DType::kBFloat16)}}),
            T(DType::kBFloat16, {sym("b"), 2}));
  EXPECT_EQ(infer_one("cast", {T(DType::kFloat8E4M3FN, {2})}, {{"dtype", A(F32)}}), T(F32, {2}));
  EXPECT_CONTAINS(infer_error("cast", {T(F32, {2})}), "missing required attribute 'dtype'");
  EXPECT_CONTAINS(infer_error("cast", {T(F32, {2})}, {{"dtype", A(int64_t{72})}}),
                  "attribute 'dtype' must be a dtype, got int");
  EXPECT_CONTAINS(infer_error("cast", {T(F32, {2})}, {{"dtype", A(static_cast<DType>(5))}}),
                  "unknown dtype code 5");
}

TEST(ElementwiseOpsTest, Where) {
  EXPECT_EQ(infer_one("where", {T(BOOL, {2, 1}), T(F32, {3}), T(F32, {1, 3})}), T(F32, {2, 3}));
  EXPECT_CONTAINS(infer_error("where", {T(F32, {2}), T(F32, {2}), T(F32, {2})}),
                  "operand 0 (condition) has dtype float32; where needs a bool condition");
  EXPECT_CONTAINS(infer_error("where", {T(BOOL, {2}), T(F32, {2}), T(I32, {2})}),
                  "operand 2 (y) has dtype int32 but operand 1 (x) has float32");
  EXPECT_CONTAINS(infer_error("where", {T(BOOL, {2}), T(F32, {2}), T(F32, {3})}),
                  "operand 2 (y) shape [3] do not broadcast");
}

TEST(MatmulOpTest, Shapes) {
  EXPECT_EQ(infer_one("matmul", {T(F32, {2, 64}), T(F32, {64, 10})}), T(F32, {2, 10}));
  EXPECT_EQ(infer_one("matmul", {T(F32, {64}), T(F32, {64, 10})}), T(F32, {10}));
  EXPECT_EQ(infer_one("matmul", {T(F32, {2, 64}), T(F32, {64})}), T(F32, {2}));
  EXPECT_EQ(infer_one("matmul", {T(F32, {64}), T(F32, {64})}), T(F32, {}));
  EXPECT_EQ(infer_one("matmul", {T(F32, {5, 1, 2, 3}), T(F32, {4, 3, 6})}), T(F32, {5, 4, 2, 6}));
  EXPECT_EQ(infer_one("matmul", {T(F32, {sym("batch"), sym("seq"), 64}), T(F32, {64, 128})}),
            T(F32, {sym("batch"), sym("seq"), 128}));
  EXPECT_EQ(infer_one("matmul", {T(I32, {3, sym("k")}), T(I32, {sym("k"), 2})}), T(I32, {3, 2}));
}

TEST(MatmulOpTest, Errors) {
  auto out = infer("matmul", {T(F32, {2, 64}), T(F32, {32, 10})}, {}, "mm1");
  ASSERT_FALSE(out.is_ok());
  EXPECT_CONTAINS(out.status().message(),
                  "matmul 'mm1': operand 1 (rhs) has shape [32, 10] but K of lhs is 64");
  EXPECT_CONTAINS(infer_error("matmul", {T(F32, {}), T(F32, {2})}), "operand 0 (lhs) has rank 0");
  EXPECT_CONTAINS(infer_error("matmul", {T(F32, {2, 2}), T(I32, {2, 2})}), "dtype int32");
  EXPECT_CONTAINS(infer_error("matmul", {T(F32, {3, 2, 2}), T(F32, {4, 2, 2})}),
                  "batch dims of lhs [3, 2, 2] and rhs [4, 2, 2] do not broadcast");
  EXPECT_CONTAINS(infer_error("matmul", {T(BOOL, {2, 2}), T(BOOL, {2, 2})}), "numeric");
}

TEST(ShapeOpsTest, Reshape) {
  EXPECT_EQ(infer_one("reshape", {T(F32, {2, 3, 4})}, {{"shape", Ints({6, -1})}}), T(F32, {6, 4}));
  EXPECT_EQ(infer_one("reshape", {T(F32, {2, 3})}, {{"shape", Ints({6})}}), T(F32, {6}));
  EXPECT_EQ(infer_one("reshape", {T(F32, {1})}, {{"shape", Ints({})}}), T(F32, {}));
  EXPECT_EQ(infer_one("reshape", {T(F32, {sym("batch"), sym("seq"), 128})},
                      {{"shape", A("batch,-1,64")}}),
            T(F32, {sym("batch"), sym("2*seq"), 64}));
  EXPECT_EQ(infer_one("reshape", {T(F32, {sym("batch"), sym("seq"), 64})}, {{"shape", Ints({-1})}}),
            T(F32, {sym("64*batch*seq")}));
  EXPECT_EQ(infer_one("reshape", {T(F32, {sym("batch"), 64})}, {{"shape", A("batch, 8, 8")}}),
            T(F32, {sym("batch"), 8, 8}));
  EXPECT_EQ(infer_one("reshape", {T(F32, {sym("b"), 2})}, {{"shape", A("2*b")}}),
            T(F32, {sym("2*b")}));
  EXPECT_EQ(infer_one("reshape", {T(F32, {0, 5})}, {{"shape", Ints({5, 0})}}), T(F32, {5, 0}));
}

TEST(ShapeOpsTest, ReshapeErrors) {
  EXPECT_CONTAINS(infer_error("reshape", {T(F32, {2, 3})}, {{"shape", Ints({4, 2})}}),
                  "reshape 'n1': operand 0 (x) has shape [2, 3] (6 elements) but the target "
                  "shape [4, 2] has 8");
  EXPECT_CONTAINS(infer_error("reshape", {T(F32, {2, 3})}, {{"shape", Ints({-1, -1})}}),
                  "more than one -1");
  EXPECT_CONTAINS(infer_error("reshape", {T(F32, {2, 3})}, {{"shape", Ints({-2, 3})}}),
                  "entry 0 is -2");
  EXPECT_CONTAINS(infer_error("reshape", {T(F32, {2, 3})}, {{"shape", Ints({0, -1})}}),
                  "multiply to 0");
  EXPECT_CONTAINS(infer_error("reshape", {T(F32, {2, 3})}, {{"shape", Ints({4, -1})}}),
                  "not a multiple of 4");
  EXPECT_CONTAINS(infer_error("reshape", {T(F32, {sym("batch"), 3})}, {{"shape", Ints({2, -1})}}),
                  "(3*batch elements), not a multiple of 2");
  EXPECT_CONTAINS(infer_error("reshape", {T(F32, {sym("batch"), 64})}, {{"shape", Ints({2, 32})}}),
                  "64*batch elements");
  EXPECT_CONTAINS(infer_error("reshape", {T(F32, {2})}, {{"shape", A("2,b$d")}}),
                  "attribute 'shape' entry 1: bad dim expression 'b$d'");
  EXPECT_CONTAINS(infer_error("reshape", {T(F32, {2})}, {{"shape", A(1.5)}}),
                  "must be a list of ints or a string of dims, got float");
  EXPECT_CONTAINS(infer_error("reshape", {T(F32, {2})}), "missing required attribute 'shape'");
  EXPECT_CONTAINS(infer_error("reshape", {T(F32, {int64_t(1) << 40})},
                              {{"shape", Ints({int64_t(1) << 40, int64_t(1) << 40})}}),
                  "overflow");
}

TEST(ShapeOpsTest, TransposeAndPermute) {
  EXPECT_EQ(infer_one("transpose", {T(F32, {2, 3, 4})},
                      {{"axis_1", A(int64_t{0})}, {"axis_2", A(int64_t{-1})}}),
            T(F32, {4, 3, 2}));
  EXPECT_CONTAINS(infer_error("transpose", {T(F32, {2, 3, 4})},
                              {{"axis_1", A(int64_t{3})}, {"axis_2", A(int64_t{0})}}),
                  "attribute 'axis_1' is 3 but the rank is 3 (valid: -3..2)");
  EXPECT_CONTAINS(infer_error("transpose", {T(F32, {2})}, {{"axis_1", A(int64_t{0})}}),
                  "missing required attribute 'axis_2'");
  EXPECT_EQ(infer_one("permute", {T(F32, {2, sym("s"), 4})}, {{"dims", Ints({2, 0, -2})}}),
            T(F32, {4, 2, sym("s")}));
  EXPECT_CONTAINS(infer_error("permute", {T(F32, {2, 3})}, {{"dims", Ints({0, 0})}}),
                  "names axis 0 twice");
  EXPECT_CONTAINS(infer_error("permute", {T(F32, {2, 3})}, {{"dims", Ints({0})}}),
                  "attribute 'dims' has 1 entries but operand 0 (x) has rank 2");
  EXPECT_CONTAINS(infer_error("permute", {T(F32, {2, 3})}, {{"dims", Ints({0, 5})}}),
                  "attribute 'dims' entry 1 is 5");
}

TEST(ShapeOpsTest, BroadcastTo) {
  EXPECT_EQ(infer_one("broadcast_to", {T(F32, {3})}, {{"shape", Ints({2, 3})}}), T(F32, {2, 3}));
  EXPECT_EQ(infer_one("broadcast_to", {T(F32, {1, sym("batch")})}, {{"shape", A("4, batch")}}),
            T(F32, {4, sym("batch")}));
  EXPECT_CONTAINS(infer_error("broadcast_to", {T(F32, {2})}, {{"shape", Ints({3})}}),
                  "its dim 0 is 2, neither 1 nor 3");
  EXPECT_CONTAINS(infer_error("broadcast_to", {T(F32, {2, 2})}, {{"shape", Ints({2})}}),
                  "lower-rank");
  EXPECT_CONTAINS(infer_error("broadcast_to", {T(F32, {2})}, {{"shape", Ints({-1})}}),
                  "entry 0 is -1, which broadcast_to does not allow");
}

TEST(ShapeOpsTest, Concat) {
  const Dim b = sym("batch");
  EXPECT_EQ(infer_one("concat", {T(F32, {b, 4}), T(F32, {b, 4})}), T(F32, {sym("2*batch"), 4}));
  EXPECT_EQ(infer_one("concat", {T(F32, {b, 4}), T(F32, {b, 4})}, {{"axis", A(int64_t{-1})}}),
            T(F32, {b, 8}));
  EXPECT_EQ(infer_one("concat", {T(F32, {2, 3}), T(F32, {5, 3}), T(F32, {b, 3})}),
            T(F32, {sym("batch + 7"), 3}));
  EXPECT_EQ(infer_one("concat", {T(I32, {2})}), T(I32, {2}));
  EXPECT_CONTAINS(infer_error("concat", {T(F32, {2, 3}), T(F32, {2, 4})}),
                  "operand 1 has shape [2, 4] but operand 0 has [2, 3]: dim 1 differs");
  EXPECT_CONTAINS(infer_error("concat", {T(F32, {2}), T(I32, {2})}), "dtype int32");
  EXPECT_CONTAINS(infer_error("concat", {T(F32, {2}), T(F32, {2, 1})}), "has rank 2");
  EXPECT_CONTAINS(infer_error("concat", {T(F32, {})}), "no axis exists");
  EXPECT_CONTAINS(infer_error("concat", {T(F32, {INT64_MAX}), T(F32, {1})}), "overflow");
}

TEST(ShapeOpsTest, SqueezeUnsqueezeFlatten) {
  const Dim b = sym("batch"), s = sym("seq");
  EXPECT_EQ(infer_one("squeeze", {T(F32, {b, 1, 4})}, {{"axis", A(int64_t{-2})}}), T(F32, {b, 4}));
  EXPECT_EQ(infer_one("unsqueeze", {T(F32, {b, 4})}, {{"axis", A(int64_t{-1})}}),
            T(F32, {b, 4, 1}));
  EXPECT_EQ(infer_one("unsqueeze", {T(I32, {})}, {{"axis", A(int64_t{0})}}), T(I32, {1}));
  EXPECT_EQ(infer_one("flatten", {T(F32, {b, s, 4})}), T(F32, {sym("4*batch*seq")}));
  EXPECT_EQ(infer_one("flatten", {T(F32, {b, s, 4})}, {{"start_dim", A(int64_t{1})}}),
            T(F32, {b, sym("4*seq")}));
  EXPECT_EQ(infer_one("flatten", {T(BOOL, {})}), T(BOOL, {1}));
  EXPECT_EQ(infer_one("flatten", {T(F32, {2, 0, 3})}, {{"end_dim", A(int64_t{1})}}),
            T(F32, {0, 3}));
  EXPECT_CONTAINS(infer_error("squeeze", {T(F32, {b, 4})}, {{"axis", A(int64_t{0})}}),
                  "its size is batch, not 1");
  EXPECT_CONTAINS(infer_error("unsqueeze", {T(F32, {4})}, {{"axis", A(int64_t{2})}}),
                  "valid: -2..1");
  EXPECT_CONTAINS(infer_error("flatten", {T(F32, {2, 3, 4})},
                              {{"start_dim", A(int64_t{2})}, {"end_dim", A(int64_t{1})}}),
                  "comes after");
}

TEST(ShapeOpsTest, StackSplitTile) {
  const Dim b = sym("batch"), n = sym("n");
  EXPECT_EQ(infer_one("stack", {T(F32, {b, 3}), T(F32, {b, 3})}, {{"axis", A(int64_t{-1})}}),
            T(F32, {b, 3, 2}));
  EXPECT_CONTAINS(infer_error("stack", {T(F32, {b, 3}), T(F32, {3, b})}), "one shape");
  auto parts = infer("split", {T(F32, {sym("2*n + 3"), 4})},
                     {{"split_sizes", A("n, n + 3")}, {"axis", A(int64_t{0})}});
  ASSERT_TRUE(parts.is_ok()) << parts.status().to_string();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0], T(F32, {n, 4}));
  EXPECT_EQ((*parts)[1], T(F32, {sym("n + 3"), 4}));
  EXPECT_CONTAINS(infer_error("split", {T(F32, {5})}, {{"split_sizes", Ints({2, 2})}}),
                  "adds up to 4 but dim 0");
  EXPECT_EQ(infer_one("tile", {T(F32, {b, 3})}, {{"repeats", A("2, k")}}),
            T(F32, {sym("2*batch"), sym("3*k")}));
  EXPECT_CONTAINS(infer_error("tile", {T(F32, {b, 3})}, {{"repeats", Ints({2})}}),
                  "one entry per dim");
  EXPECT_EQ(infer_one("repeat_interleave", {T(F32, {b, 3})},
                      {{"repeats", A(int64_t{3})}, {"axis", A(int64_t{0})}}),
            T(F32, {sym("3*batch"), 3}));
}

TEST(ShapeOpsTest, PadBandPartRebindRange) {
  const Dim n = sym("n");
  EXPECT_EQ(infer_one("pad", {T(F32, {n, 4}), T(F32, {})}, {{"paddings", Ints({1, 2, 0, 0})}}),
            T(F32, {sym("n + 3"), 4}));
  EXPECT_CONTAINS(infer_error("pad", {T(F32, {4}), T(F32, {2})}, {{"paddings", Ints({1, 1})}}),
                  "scalar");
  EXPECT_CONTAINS(infer_error("pad", {T(F32, {4}), T(F32, {})},
                              {{"paddings", Ints({1, 1})}, {"mode", A("edge")}}),
                  "only 'constant'");
  EXPECT_EQ(infer_one("band_part", {T(I64, {2, n, n})}, {{"num_lower", A(int64_t{0})}}),
            T(I64, {2, n, n}));
  EXPECT_CONTAINS(infer_error("band_part", {T(F32, {3})}), "rank >= 2");
  EXPECT_EQ(infer_one("rebind", {T(F32, {n, 4})}, {{"shape", A("rows, 4")}}),
            T(F32, {sym("rows"), 4}));
  EXPECT_CONTAINS(infer_error("rebind", {T(F32, {3, 4})}, {{"shape", Ints({3, 5})}}),
                  "dim 1 is 4, not 5");
  EXPECT_EQ(infer_one("range", {T(I64, {}), T(I64, {}), T(I64, {})}, {{"out_dim", A("len")}}),
            T(I64, {sym("len")}));
  EXPECT_CONTAINS(
      infer_error("range", {T(I64, {}), T(I32, {}), T(I64, {})}, {{"out_dim", Ints({3})}}),
      "dtype int32");
}

TEST(IndexingOpsTest, GatherNdScatter) {
  const Dim a = sym("a");
  EXPECT_EQ(
      infer_one("gather_nd",
                {T(F32, {a, sym("b"), sym("c"), sym("d"), sym("e")}), T(I32, {a, sym("f"), 3})},
                {{"batch_dims", A(int64_t{1})}}),
      T(F32, {a, sym("f"), sym("e")}));
  EXPECT_EQ(infer_one("gather_nd", {T(F32, {5, 6, 7}), T(I64, {4, 2})}), T(F32, {4, 7}));
  EXPECT_CONTAINS(infer_error("gather_nd", {T(F32, {5, 6}), T(I64, {4, 3})}), "index depth 3");
  EXPECT_CONTAINS(infer_error("gather_nd", {T(F32, {5, 6}), T(F32, {4, 1})}), "int32 or int64");
  EXPECT_EQ(infer_one("scatter", {T(F32, {a, 4}), T(F32, {2, 4}), T(I64, {2, 4})},
                      {{"axis", A(int64_t{0})}}),
            T(F32, {a, 4}));
  EXPECT_CONTAINS(infer_error("scatter", {T(F32, {3, 4}), T(F32, {3, 2}), T(I64, {3, 3})}),
                  "differs from operand 1");
  EXPECT_EQ(infer_one("scatter_nd", {T(F32, {5, 2, 3}), T(F32, {4, 2, 3}), T(I64, {4, 1})}),
            T(F32, {5, 2, 3}));
  EXPECT_CONTAINS(infer_error("scatter_nd", {T(F32, {5, 2}), T(F32, {4, 3}), T(I64, {4, 1})}),
                  "need updates of shape [4, 2]");
  EXPECT_EQ(infer_one("masked_scatter", {T(F32, {a, 4}), T(BOOL, {4}), T(F32, {7})}),
            T(F32, {a, 4}));
  EXPECT_CONTAINS(infer_error("masked_scatter", {T(F32, {4}), T(BOOL, {2, 4}), T(F32, {7})}),
                  "not widen");
}

TEST(IndexingOpsTest, SliceStatic) {
  auto slice = [](Shape in, std::vector<int64_t> starts, std::vector<int64_t> stops,
                  std::vector<int64_t> steps) {
    return infer("slice_tensor", {T(F32, std::move(in))},
                 {{"starts", Ints(std::move(starts))},
                  {"stops", Ints(std::move(stops))},
                  {"steps", Ints(std::move(steps))}});
  };
  auto len = [&](int64_t n, int64_t start, int64_t stop, int64_t step) -> int64_t {
    auto out = slice({n}, {start}, {stop}, {step});
    EXPECT_TRUE(out.is_ok()) << out.status().to_string();
    return out.is_ok() ? (*out)[0].shape[0].value() : -1;
  };
  EXPECT_EQ(len(10, 2, 8, 2), 3);  // 2 4 6
  EXPECT_EQ(len(10, -3, INT64_MAX, 1), 3);
  EXPECT_EQ(len(10, 9, INT64_MIN, -1), 10);
  EXPECT_EQ(len(10, INT64_MAX, INT64_MIN, -3), 4);  // 9 6 3 0
  EXPECT_EQ(len(10, 5, 2, 1), 0);
  EXPECT_EQ(len(10, 100, 200, 1), 0);
  EXPECT_EQ(len(10, -100, 3, 1), 3);
  EXPECT_EQ(len(10, 9, INT64_MIN, INT64_MIN), 1);
  EXPECT_EQ(len(10, 0, INT64_MAX, INT64_MAX), 1);
  EXPECT_EQ(len(10, -1, -11, -1), 10);
  EXPECT_EQ(len(0, 0, INT64_MAX, 1), 0);
  EXPECT_EQ(len(7, 1, -1, 1), 5);
  auto two = slice({4, 6}, {1, 0}, {3, INT64_MAX}, {1, 2});
  ASSERT_TRUE(two.is_ok());
  EXPECT_EQ((*two)[0], T(F32, {2, 3}));
}

TEST(IndexingOpsTest, SliceSymbolicAndSqueeze) {
  AttrMap full = {
      {"starts", Ints({0, 1})}, {"stops", Ints({INT64_MAX, 2})}, {"steps", Ints({1, 1})}};
  EXPECT_EQ(infer_one("slice_tensor", {T(F32, {sym("batch"), 5})}, full),
            T(F32, {sym("batch"), 1}));
  AttrMap squeezed = full;
  squeezed["squeeze"] = Ints({-1});
  EXPECT_EQ(infer_one("slice_tensor", {T(F32, {sym("batch"), 5})}, squeezed),
            T(F32, {sym("batch")}));
  auto sliced = [](int64_t start, int64_t stop, int64_t step) {
    return AttrMap{{"starts", Ints({start})}, {"stops", Ints({stop})}, {"steps", Ints({step})}};
  };
  const TensorType batch = T(F32, {sym("batch")});
  // Within-bounds slices of a symbolic dim, as MAX assumes: static or "batch - k" lengths.
  EXPECT_EQ(infer_one("slice_tensor", {batch}, sliced(0, 5, 1)), T(F32, {5}));
  EXPECT_EQ(infer_one("slice_tensor", {batch}, sliced(1, INT64_MAX, 1)),
            T(F32, {sym("batch - 1")}));
  EXPECT_EQ(infer_one("slice_tensor", {batch}, sliced(2, -1, 1)), T(F32, {sym("batch - 3")}));
  EXPECT_EQ(infer_one("slice_tensor", {batch}, sliced(-3, INT64_MAX, 1)), T(F32, {3}));
  EXPECT_EQ(infer_one("slice_tensor", {batch}, sliced(-3, -1, 1)), T(F32, {2}));
  EXPECT_EQ(infer_one("slice_tensor", {batch}, sliced(4, 2, 1)), T(F32, {0}));
  EXPECT_EQ(infer_one("slice_tensor", {batch}, sliced(INT64_MAX, INT64_MIN, -1)), batch);
  EXPECT_CONTAINS(infer_error("slice_tensor", {batch}, sliced(-3, 5, 1)),
                  "dim 0 (batch) sliced -3:5:1: a symbolic dim can only be sliced whole");
  EXPECT_CONTAINS(infer_error("slice_tensor", {batch}, sliced(0, INT64_MAX, 2)),
                  "a symbolic dim can only be sliced whole");
  AttrMap bad_squeeze = full;
  bad_squeeze["squeeze"] = Ints({0});
  EXPECT_CONTAINS(infer_error("slice_tensor", {T(F32, {sym("batch"), 5})}, bad_squeeze),
                  "squeezed dim's slice must have length 1, not batch");
  AttrMap twice = full;
  twice["squeeze"] = Ints({1, -1});
  EXPECT_CONTAINS(infer_error("slice_tensor", {T(F32, {3, 5})}, twice), "names axis 1 twice");
}

TEST(IndexingOpsTest, SliceErrors) {
  EXPECT_CONTAINS(infer_error("slice_tensor", {T(F32, {4})},
                              {{"starts", Ints({0})}, {"stops", Ints({4})}, {"steps", Ints({0})}}),
                  "dim 0 (4) sliced 0:4:0: step must not be 0");
  EXPECT_CONTAINS(
      infer_error("slice_tensor", {T(F32, {4, 4})},
                  {{"starts", Ints({0})}, {"stops", Ints({4, 4})}, {"steps", Ints({1, 1})}}),
      "attribute 'starts' has 1 entries but operand 0 (x) has rank 2");
  EXPECT_CONTAINS(infer_error("slice_tensor", {T(F32, {4})}, {{"starts", Ints({0})}}),
                  "missing required attribute 'stops'");
}

TEST(IndexingOpsTest, Gather) {
  EXPECT_EQ(infer_one("gather", {T(F32, {10, 20}), T(I64, {3, 4})}, {{"axis", A(int64_t{0})}}),
            T(F32, {3, 4, 20}));
  EXPECT_EQ(infer_one("gather", {T(F32, {10, 20}), T(I32, {sym("n")})}), T(F32, {10, sym("n")}));
  EXPECT_EQ(infer_one("gather", {T(F32, {10, 20}), T(I32, {})}, {{"axis", A(int64_t{0})}}),
            T(F32, {20}));
  EXPECT_CONTAINS(infer_error("gather", {T(F32, {10}), T(F32, {3})}),
                  "operand 1 (indices) has dtype float32; gather needs int32 or int64 indices");
  EXPECT_CONTAINS(infer_error("gather", {T(F32, {10}), T(I32, {3})}, {{"axis", A(int64_t{1})}}),
                  "attribute 'axis' is 1 but the rank is 1");
}

TEST(ReductionOpsTest, Reductions) {
  for (const char* op : {"sum", "mean", "max", "min"}) {
    EXPECT_EQ(infer_one(op, {T(F32, {2, sym("s")})}), T(F32, {2, 1})) << op;
    EXPECT_EQ(infer_one(op, {T(I32, {2, 3})}, {{"axis", A(int64_t{0})}}), T(I32, {1, 3})) << op;
    EXPECT_CONTAINS(infer_error(op, {T(F32, {})}), "has rank 0");
    EXPECT_CONTAINS(infer_error(op, {T(F32, {2})}, {{"axis", A(int64_t{-2})}}),
                    "attribute 'axis' is -2 but the rank is 1 (valid: -1..0)");
  }
  EXPECT_EQ(infer_one("argmax", {T(F32, {2, 5})}), T(I64, {2, 1}));
  EXPECT_CONTAINS(infer_error("sum", {T(BOOL, {2})}), "numeric");
}

TEST(NnOpsTest, Softmax) {
  EXPECT_EQ(infer_one("softmax", {T(F32, {sym("b"), 10})}), T(F32, {sym("b"), 10}));
  EXPECT_EQ(infer_one("softmax", {T(F32, {2, 10})}, {{"axis", A(int64_t{0})}}), T(F32, {2, 10}));
  EXPECT_CONTAINS(infer_error("softmax", {T(I32, {2})}), "needs a float dtype");
  EXPECT_CONTAINS(infer_error("softmax", {T(F32, {2})}, {{"axis", A(int64_t{1})}}),
                  "attribute 'axis' is 1");
}

TEST(NnOpsTest, LayerNorm) {
  EXPECT_EQ(infer_one("layer_norm", {T(F32, {sym("b"), 64}), T(F32, {64}), T(F32, {64})}),
            T(F32, {sym("b"), 64}));
  EXPECT_EQ(infer_one("layer_norm", {T(F32, {2, sym("d")}), T(F32, {sym("d")}), T(F32, {sym("d")})},
                      {{"epsilon", A(1e-6)}}),
            T(F32, {2, sym("d")}));
  EXPECT_CONTAINS(infer_error("layer_norm", {T(F32, {2, 64}), T(F32, {32}), T(F32, {64})}),
                  "operand 1 (gamma) has shape [32] but must be [64], the last dim of input");
  EXPECT_CONTAINS(
      infer_error("layer_norm", {T(F32, {2, 64}), T(F32, {64}), T(DType::kFloat16, {64})}),
      "operand 2 (beta) has dtype float16");
  EXPECT_CONTAINS(
      infer_error("layer_norm", {T(F32, {2, 4}), T(F32, {4}), T(F32, {4})}, {{"epsilon", A(-1.0)}}),
      "attribute 'epsilon' is -1");
  EXPECT_CONTAINS(infer_error("layer_norm", {T(I32, {2, 4}), T(I32, {4}), T(I32, {4})}),
                  "needs a float dtype");
}

TEST(NnOpsTest, Constant) {
  HostTensor value;
  value.dtype = F32;
  value.shape = {2, 2};
  value.bytes = std::make_shared<const std::vector<uint8_t>>(16, uint8_t{0});
  EXPECT_EQ(infer_one("constant", {}, {{"value", Attribute{value}}}), T(F32, {2, 2}));
  HostTensor short_value = value;
  short_value.bytes = std::make_shared<const std::vector<uint8_t>>(12, uint8_t{0});
  EXPECT_CONTAINS(infer_error("constant", {}, {{"value", Attribute{short_value}}}),
                  "attribute 'value' has 12 bytes, which does not match its type float32[2, 2]");
  HostTensor absurd = value;
  absurd.shape = {int64_t(1) << 62};
  EXPECT_CONTAINS(infer_error("constant", {}, {{"value", Attribute{absurd}}}), "does not match");
  EXPECT_CONTAINS(infer_error("constant", {T(F32, {2})}, {{"value", Attribute{value}}}),
                  "takes 0 inputs");
  EXPECT_CONTAINS(infer_error("constant", {}), "missing required attribute 'value'");
}

TensorType on(TensorType t, const char* device) {
  t.device = device;
  return t;
}

TEST(CollectiveOpsTest, Allgather) {
  // One output per operand, each on its operand's device, all the concatenation.
  auto out = infer("allgather", {on(T(F32, {2, 3}), "cpu:0"), on(T(F32, {4, 3}), "cpu:1"),
                                 on(T(F32, {1, 3}), "cpu:2")});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  ASSERT_EQ(out->size(), 3u);
  const char* devices[] = {"cpu:0", "cpu:1", "cpu:2"};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*out)[i], T(F32, {7, 3}));
    EXPECT_EQ((*out)[i].device, devices[i]);
  }
  // Negative axis, symbolic dims, bool and int64.
  out =
      infer("allgather", {on(T(BOOL, {sym("b"), 2}), "gpu:0"), on(T(BOOL, {sym("b"), 5}), "gpu:1")},
            {{"axis", A(int64_t{-1})}});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ((*out)[1], T(BOOL, {sym("b"), 7}));
  EXPECT_EQ((*out)[1].device, "gpu:1");
  out = infer("allgather", {on(T(I64, {sym("n"), 2}), "cpu"), on(T(I64, {sym("n"), 2}), "cpu:1")});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ((*out)[0], T(I64, {sym("2*n"), 2}));
  // A single operand gathers to itself.
  EXPECT_EQ(infer_one("allgather", {on(T(F32, {3}), "cpu")}), T(F32, {3}));

  // Errors name the operand and the reason.
  EXPECT_CONTAINS(infer_error("allgather", {}), "takes at least 1 input");
  EXPECT_CONTAINS(
      infer_error("allgather", {on(T(F32, {2, 3}), "cpu:0"), on(T(F32, {2, 4}), "cpu:1")}),
      "allgather 'n1': operand 1 has shape [2, 4] but operand 0 has [2, 3]: dim 1 differs off "
      "the gather axis 0");
  EXPECT_CONTAINS(
      infer_error("allgather", {on(T(F32, {2, 3}), "cpu:0"), on(T(F32, {2, 3, 1}), "cpu:1")}),
      "operand 1 has rank 3 but operand 0 has rank 2");
  EXPECT_CONTAINS(infer_error("allgather", {on(T(F32, {2}), "cpu:0"), on(T(I64, {2}), "cpu:1")}),
                  "operand 1 has dtype int64 but operand 0 has float32");
  EXPECT_CONTAINS(infer_error("allgather", {on(T(F32, {2}), "cpu:0"), on(T(F32, {2}), "cpu:1")},
                              {{"axis", A(int64_t{1})}}),
                  "attribute 'axis' is 1 but the rank is 1");
  EXPECT_CONTAINS(infer_error("allgather", {on(T(F32, {}), "cpu:0"), on(T(F32, {}), "cpu:1")}),
                  "no axis exists");
  EXPECT_CONTAINS(infer_error("allgather", {on(T(F32, {2}), "cpu:0"), on(T(F32, {2}), "cpu:1"),
                                            on(T(F32, {2}), "cpu")}),
                  "operand 0 and operand 2 are both on device 'cpu'; allgather takes one operand "
                  "per device");
  EXPECT_CONTAINS(infer_error("allgather", {T(F32, {2}), T(F32, {2})}),
                  "the session's first device");
  EXPECT_CONTAINS(infer_error("allgather", {on(T(F32, {2}), "cpu:0")}, {{"dim", A(int64_t{0})}}),
                  "unknown attribute 'dim'");
  Node node;
  node.op = "allgather";
  node.name = "g";
  node.device = "gpu:1";
  auto wrong = infer_output_types(node, {on(T(F32, {2}), "gpu:0"), on(T(F32, {2}), "gpu:1")});
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_CONTAINS(wrong.status().message(), "the node names device 'gpu:1' but operand 0 is on");

  EXPECT_TRUE(places_outputs_by_operand("allgather"));
  EXPECT_FALSE(places_outputs_by_operand("concat"));
  EXPECT_TRUE(is_host_handled_op("allgather"));
}

// ---- Signal: hann_window, as_interleaved_complex ------------------------------------------

TEST(SignalOpsTest, HannWindow) {
  auto out = infer_one("hann_window", {}, {{"window_length", A(int64_t{8})}});
  EXPECT_EQ(out, T(F32, {Dim(8)}));
  EXPECT_EQ(infer_one("hann_window", {},
                      {{"window_length", A(int64_t{0})},
                       {"periodic", Attribute{false}},
                       {"dtype", A(DType::kFloat64)}}),
            T(DType::kFloat64, {Dim(0)}));
  EXPECT_EQ(infer_one("hann_window", {},
                      {{"window_length", A(int64_t{3})},
                       {"periodic", A(int64_t{0})},
                       {"dtype", A(DType::kBFloat16)}}),
            T(DType::kBFloat16, {Dim(3)}));

  EXPECT_CONTAINS(infer_error("hann_window", {}, {{"window_length", A(int64_t{-1})}}),
                  "hann_window 'n1': attribute 'window_length' is -1; it must be in [0, 2^32]");
  EXPECT_CONTAINS(infer_error("hann_window", {}), "window_length");
  EXPECT_CONTAINS(infer_error("hann_window", {}, {{"window_length", A(2.5)}}),
                  "attribute 'window_length' must be an int");
  EXPECT_CONTAINS(
      infer_error("hann_window", {}, {{"window_length", A(int64_t{4})}, {"dtype", A(I32)}}),
      "attribute 'dtype' is int32; the window needs a float dtype");
  EXPECT_CONTAINS(
      infer_error("hann_window", {}, {{"window_length", A(int64_t{4})}, {"periodic", A("yes")}}),
      "attribute 'periodic' must be a bool");
  EXPECT_CONTAINS(infer_error("hann_window", {},
                              {{"window_length", A(int64_t{4})}, {"periodic", A(int64_t{2})}}),
                  "attribute 'periodic' must be a bool");
  EXPECT_CONTAINS(infer_error("hann_window", {T(F32, {4})}, {{"window_length", A(int64_t{4})}}),
                  "takes 0 inputs");
}

TEST(SignalOpsTest, AsInterleavedComplex) {
  EXPECT_EQ(infer_one("as_interleaved_complex", {T(F32, {Dim(2), Dim(3), Dim(8)})}),
            T(F32, {Dim(2), Dim(3), Dim(4), Dim(2)}));
  EXPECT_EQ(infer_one("as_interleaved_complex", {T(DType::kFloat16, {Dim(0)})}),
            T(DType::kFloat16, {Dim(0), Dim(2)}));
  EXPECT_EQ(infer_one("as_interleaved_complex", {T(F32, {sym("batch"), sym("2*n")})}),
            T(F32, {sym("batch"), sym("n"), Dim(2)}));

  EXPECT_CONTAINS(infer_error("as_interleaved_complex", {T(F32, {Dim(2), Dim(7)})}),
                  "as_interleaved_complex 'n1': operand 0 (x) has shape [2, 7]; its last dim 7 "
                  "is odd");
  EXPECT_CONTAINS(infer_error("as_interleaved_complex", {T(F32, {sym("n")})}),
                  "is not known to be even");
  EXPECT_CONTAINS(infer_error("as_interleaved_complex", {T(F32, {})}), "needs rank >= 1");
  EXPECT_CONTAINS(infer_error("as_interleaved_complex", {T(I32, {Dim(4)})}),
                  "operand 0 (x) has dtype int32; as_interleaved_complex needs a float dtype");
  EXPECT_CONTAINS(
      infer_error("as_interleaved_complex", {T(F32, {Dim(4)})}, {{"axis", A(int64_t{0})}}),
      "accepts no attributes");
}

}  // namespace
}  // namespace kiln
