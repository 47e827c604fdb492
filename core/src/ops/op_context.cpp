// Checks shared by every op family: operand naming, dtype classes, axes, broadcasting, shapes.
#include <algorithm>

#include "ir/limits.h"
#include "ops/op_table.h"

namespace kiln {
namespace {

bool in_class(DType t, DtypeClass dtypes) {
  const bool is_float =
      t == DType::kFloat16 || t == DType::kBFloat16 || t == DType::kFloat32 || t == DType::kFloat64;
  switch (dtypes) {
    case DtypeClass::kAny:
      return dtype_is_valid(static_cast<int32_t>(t));
    case DtypeClass::kFloat:
      return is_float;
    case DtypeClass::kNumeric:
      return is_float || dtype_is_integral(t);
    case DtypeClass::kNumericOrBool:
      return is_float || dtype_is_integral(t) || t == DType::kBool;
  }
  return false;
}

const char* class_description(DtypeClass dtypes) {
  switch (dtypes) {
    case DtypeClass::kAny:
      return "a valid dtype";
    case DtypeClass::kFloat:
      return "a float dtype (float16, bfloat16, float32, float64)";
    case DtypeClass::kNumeric:
      return "a numeric dtype (float16, bfloat16, float32, float64 or an integer type)";
    case DtypeClass::kNumericOrBool:
      return "a numeric or bool dtype";
  }
  return "?";
}

}  // namespace

Status OpContext::error(const std::string& message) const {
  return invalid_argument(describe_node(node) + ": " + message);
}

std::string OpContext::operand(size_t index) const {
  std::string out = "operand " + std::to_string(index);
  if (index < schema.operands.size()) out += " (" + std::string(schema.operands[index]) + ")";
  return out;
}

Status OpContext::check_dtype(size_t index, DtypeClass dtypes) const {
  const DType t = inputs[index].dtype;
  if (in_class(t, dtypes)) return Status::ok();
  return error(operand(index) + " has dtype " + dtype_name(t) + "; " + node.op + " needs " +
               class_description(dtypes));
}

Status OpContext::check_same_dtype(size_t a, size_t b) const {
  if (inputs[a].dtype == inputs[b].dtype) return Status::ok();
  return error(operand(b) + " has dtype " + dtype_name(inputs[b].dtype) + " but " + operand(a) +
               " has " + dtype_name(inputs[a].dtype));
}

Status OpContext::check_min_rank(size_t index, size_t min_rank) const {
  if (inputs[index].shape.size() >= min_rank) return Status::ok();
  return error(operand(index) + " has rank " + std::to_string(inputs[index].shape.size()) +
               " (shape " + shape_to_string(inputs[index].shape) + "); " + node.op +
               " needs rank >= " + std::to_string(min_rank));
}

StatusOr<size_t> OpContext::normalize_axis(int64_t axis, size_t rank,
                                           const std::string& what) const {
  const int64_t r = static_cast<int64_t>(rank);
  if (r == 0 || axis < -r || axis >= r) {
    return error(what + " is " + std::to_string(axis) + " but the rank is " + std::to_string(r) +
                 (r == 0 ? " (no axis exists)"
                         : " (valid: " + std::to_string(-r) + ".." + std::to_string(r - 1) + ")"));
  }
  return static_cast<size_t>(axis < 0 ? axis + r : axis);
}

std::optional<Dim> broadcast_dim(const Dim& a, const Dim& b) {
  if (a == b) return a;
  if (a == Dim(1)) return b;
  if (b == Dim(1)) return a;
  return std::nullopt;
}

StatusOr<Shape> OpContext::broadcast(const std::vector<size_t>& operands) const {
  Shape result = inputs[operands[0]].shape;
  for (size_t k = 1; k < operands.size(); ++k) {
    const Shape& other = inputs[operands[k]].shape;
    const size_t rank = std::max(result.size(), other.size());
    Shape merged(rank);
    for (size_t i = 0; i < rank; ++i) {
      // Aligned at the right: a missing leading dim acts as 1.
      const Dim a = i + result.size() >= rank ? result[i + result.size() - rank] : Dim(1);
      const Dim b = i + other.size() >= rank ? other[i + other.size() - rank] : Dim(1);
      auto d = broadcast_dim(a, b);
      if (!d) {
        const std::string left =
            k == 1 ? operand(operands[0]) + " shape " + shape_to_string(result)
                   : "the broadcast shape " + shape_to_string(result) + " of the operands before";
        return error(left + " and " + operand(operands[k]) + " shape " + shape_to_string(other) +
                     " do not broadcast: " + a.to_string() + " vs " + b.to_string() +
                     " (dims must be equal or 1)");
      }
      merged[i] = std::move(*d);
    }
    result = std::move(merged);
  }
  return result;
}

namespace {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace

StatusOr<std::vector<std::optional<Dim>>> parse_shape_attr(const OpContext& ctx,
                                                           const std::string& name,
                                                           bool allow_infer) {
  const Attribute* attr = find_attr(ctx.node, name);
  if (attr == nullptr) return ctx.error("missing required attribute '" + name + "'");
  std::vector<std::optional<Dim>> dims;
  auto add_entry = [&](std::optional<Dim> d, size_t index) -> Status {
    const std::string where = "attribute '" + name + "' entry " + std::to_string(index);
    if (!d) {
      if (!allow_infer)
        return ctx.error(where + " is -1, which " + ctx.node.op + " does not allow");
      for (const auto& prev : dims) {
        if (!prev) return ctx.error("attribute '" + name + "' has more than one -1");
      }
    } else if (d->is_static() && d->value() < 0) {
      return ctx.error(where + " is " + d->to_string() + "; dims must be >= 0" +
                       (allow_infer ? " (or -1 once)" : ""));
    }
    dims.push_back(std::move(d));
    return Status::ok();
  };
  if (const auto* ints = std::get_if<std::vector<int64_t>>(&attr->value)) {
    if (ints->size() > kMaxRank)
      return ctx.error("attribute '" + name + "' has rank over " + std::to_string(kMaxRank));
    for (size_t i = 0; i < ints->size(); ++i) {
      std::optional<Dim> d;
      if ((*ints)[i] != -1) d = Dim((*ints)[i]);
      KILN_RETURN_IF_ERROR(add_entry(std::move(d), i));
    }
    return dims;
  }
  const auto* text = std::get_if<std::string>(&attr->value);
  if (text == nullptr) {
    return ctx.error("attribute '" + name + "' must be a list of ints or a string of dims, got " +
                     attr_kind_name(*attr));
  }
  if (trim(*text).empty()) return dims;  // a scalar
  size_t start = 0;
  for (size_t index = 0;; ++index) {
    if (index >= kMaxRank)
      return ctx.error("attribute '" + name + "' has rank over " + std::to_string(kMaxRank));
    const size_t comma = text->find(',', start);
    const std::string entry = trim(std::string_view(*text).substr(
        start, comma == std::string::npos ? std::string::npos : comma - start));
    std::optional<Dim> d;
    if (entry != "-1") {
      auto parsed = Dim::parse(entry);
      if (!parsed.is_ok()) {
        return ctx.error("attribute '" + name + "' entry " + std::to_string(index) + ": " +
                         parsed.status().message());
      }
      d = std::move(parsed).value();
    }
    KILN_RETURN_IF_ERROR(add_entry(std::move(d), index));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return dims;
}

StatusOr<Shape> joined_shape(const OpContext& ctx, const std::string& what) {
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
      if (i == axis || other[i] == shape[i]) continue;
      return ctx.error(ctx.operand(k) + " has shape " + shape_to_string(other) + " but " +
                       ctx.operand(0) + " has " + shape_to_string(first.shape) + ": dim " +
                       std::to_string(i) + " differs off the " + what + " axis " +
                       std::to_string(axis));
    }
    auto sum = dim_add(shape[axis], other[axis]);
    if (!sum.is_ok()) return ctx.error(what + " axis size: " + sum.status().message());
    shape[axis] = std::move(sum).value();
  }
  return shape;
}

StatusOr<bool> get_flag_attr(const OpContext& ctx, const std::string& name, bool default_value) {
  const Attribute* attr = find_attr(ctx.node, name);
  if (attr == nullptr) return default_value;
  if (const auto* b = std::get_if<bool>(&attr->value)) return *b;
  if (const auto* i = std::get_if<int64_t>(&attr->value)) {
    if (*i == 0 || *i == 1) return *i == 1;
  }
  return ctx.error("attribute '" + name + "' must be a bool, got " + attr_kind_name(*attr));
}

}  // namespace kiln
