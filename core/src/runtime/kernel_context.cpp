// The kernel context accessors of the host API. They are called from plugin code, so none may
// throw: each converts failures into a status.
#include "runtime/kernel_context.h"

#include <string>

#include "api/c_status.h"
#include "runtime/device.h"
#include "runtime/plugin_record.h"
#include "runtime/runtime.h"

kiln_kernel_context::~kiln_kernel_context() {
  for (const auto& [ptr, bytes] : scratch) device->device->deallocate(ptr, bytes);
}

namespace kiln {
namespace {

std::string where(const kiln_kernel_context* ctx) {
  return ctx->node->op + " '" + ctx->node->name + "'";
}

kiln_status* fill(const kiln_tensor& t, kiln_kernel_tensor* out) {
  if (out->struct_size < sizeof(kiln_kernel_tensor)) {
    return make_c_status(StatusCode::kInvalidArgument,
                         "kiln_kernel_tensor.struct_size is " + std::to_string(out->struct_size) +
                             "; set it to sizeof(kiln_kernel_tensor)");
  }
  out->data = t.data();
  out->dtype = static_cast<int32_t>(t.dtype);
  out->rank = static_cast<int32_t>(t.shape.size());
  out->shape = t.shape.empty() ? nullptr : t.shape.data();
  out->strides = t.strides.empty() ? nullptr : t.strides.data();
  out->num_elements = t.num_elements;
  return nullptr;
}

kiln_status* bad_index(const kiln_kernel_context* ctx, const char* what, int32_t index,
                       int32_t count) {
  return make_c_status(StatusCode::kOutOfRange,
                       where(ctx) + ": " + what + " index " + std::to_string(index) +
                           " is out of range (it has " + std::to_string(count) + ")");
}

}  // namespace

int32_t ctx_get_input_count(const kiln_kernel_context* ctx) { return ctx ? ctx->num_inputs : 0; }
int32_t ctx_get_output_count(const kiln_kernel_context* ctx) { return ctx ? ctx->num_outputs : 0; }

kiln_status* ctx_get_input(const kiln_kernel_context* ctx, int32_t index,
                           kiln_kernel_tensor* out_tensor) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(ctx);
  KILN_CHECK_ARG(out_tensor);
  if (index < 0 || index >= ctx->num_inputs) {
    return bad_index(ctx, "input", index, ctx->num_inputs);
  }
  return fill(*ctx->inputs[index], out_tensor);
  KILN_API_END
}

kiln_status* ctx_get_output(kiln_kernel_context* ctx, int32_t index,
                            kiln_kernel_tensor* out_tensor) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(ctx);
  KILN_CHECK_ARG(out_tensor);
  if (index < 0 || index >= ctx->num_outputs) {
    return bad_index(ctx, "output", index, ctx->num_outputs);
  }
  const KernelOutput& output = ctx->outputs[index];
  if (!output.tensor) {
    return make_c_status(StatusCode::kFailedPrecondition,
                         where(ctx) + ": output " + std::to_string(index) +
                             " has the data-dependent type " + output.type->to_string() +
                             "; call ctx_set_output_shape first");
  }
  return fill(*output.tensor, out_tensor);
  KILN_API_END
}

kiln_status* ctx_set_output_shape(kiln_kernel_context* ctx, int32_t index, const int64_t* shape,
                                  int32_t rank) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(ctx);
  if (index < 0 || index >= ctx->num_outputs) {
    return bad_index(ctx, "output", index, ctx->num_outputs);
  }
  KernelOutput& output = ctx->outputs[index];
  const TensorType& type = *output.type;
  const std::string what =
      where(ctx) + ": output " + std::to_string(index) + " (" + type.to_string() + ")";
  if (rank < 0 || static_cast<size_t>(rank) != type.shape.size()) {
    return make_c_status(StatusCode::kInvalidArgument,
                         what + ": set_output_shape with rank " + std::to_string(rank));
  }
  if (rank > 0 && shape == nullptr) {
    return make_c_status(StatusCode::kInvalidArgument, what + ": set_output_shape with NULL shape");
  }
  std::vector<int64_t> dims(shape, shape + rank);
  for (int32_t d = 0; d < rank; ++d) {
    const bool bad_static = type.shape[d].is_static() && type.shape[d].value() != dims[d];
    if (dims[d] < 0 || bad_static) {
      return make_c_status(StatusCode::kInvalidArgument, what + ": set_output_shape gives dim " +
                                                             std::to_string(d) + " = " +
                                                             std::to_string(dims[d]));
    }
  }
  if (output.tensor) {
    if (output.tensor->shape == dims) return nullptr;
    return make_c_status(StatusCode::kFailedPrecondition,
                         what + ": its shape is already set and differs");
  }
  auto tensor = ctx->allocator->allocate(ctx->device, type.dtype, dims);
  if (!tensor.is_ok()) return to_c_status(tensor.status().with_context(what));
  output.tensor = std::move(tensor).value();
  return nullptr;
  KILN_API_END
}

kiln_status* ctx_get_attr(const kiln_kernel_context* ctx, const char* name,
                          kiln_attr_value* out_value) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(ctx);
  KILN_CHECK_ARG(name);
  KILN_CHECK_ARG(out_value);
  if (out_value->struct_size < sizeof(kiln_attr_value)) {
    return make_c_status(StatusCode::kInvalidArgument, "kiln_attr_value.struct_size is " +
                                                           std::to_string(out_value->struct_size) +
                                                           "; set it to sizeof(kiln_attr_value)");
  }
  const Attribute* attr = find_attr(*ctx->node, name);
  if (attr == nullptr) {
    return make_c_status(StatusCode::kNotFound,
                         where(ctx) + " has no attribute '" + std::string(name) + "'");
  }
  kiln_attr_value v{};
  v.struct_size = sizeof v;
  // Pointers point into the model's copy of the node, which outlives the call.
  if (auto* i = std::get_if<int64_t>(&attr->value)) {
    v.kind = KILN_ATTR_INT;
    v.i = *i;
  } else if (auto* f = std::get_if<double>(&attr->value)) {
    v.kind = KILN_ATTR_FLOAT;
    v.f = *f;
  } else if (auto* s = std::get_if<std::string>(&attr->value)) {
    v.kind = KILN_ATTR_STRING;
    v.s = s->c_str();
    v.count = s->size();
  } else if (auto* ints = std::get_if<std::vector<int64_t>>(&attr->value)) {
    v.kind = KILN_ATTR_INTS;
    v.ints = ints->data();
    v.count = ints->size();
  } else if (auto* floats = std::get_if<std::vector<double>>(&attr->value)) {
    v.kind = KILN_ATTR_FLOATS;
    v.floats = floats->data();
    v.count = floats->size();
  } else if (auto* b = std::get_if<bool>(&attr->value)) {
    v.kind = KILN_ATTR_BOOL;
    v.i = *b ? 1 : 0;
  } else if (auto* d = std::get_if<DType>(&attr->value)) {
    v.kind = KILN_ATTR_DTYPE;
    v.i = static_cast<int64_t>(*d);
  } else {
    return make_c_status(StatusCode::kUnimplemented,
                         where(ctx) + ": attribute '" + std::string(name) +
                             "' is a tensor; plugin ABI 1.0 does not pass tensor attributes");
  }
  *out_value = v;
  return nullptr;
  KILN_API_END
}

int32_t ctx_get_num_threads(const kiln_kernel_context* ctx) { return ctx ? ctx->num_threads : 1; }

int32_t ctx_get_device_ordinal(const kiln_kernel_context* ctx) {
  return ctx ? ctx->device->device->ordinal() : 0;
}

void* ctx_get_stream(const kiln_kernel_context* ctx) { return ctx != nullptr ? ctx->stream : nullptr; }

kiln_status* ctx_allocate_scratch(kiln_kernel_context* ctx, size_t bytes, void** out_ptr) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(ctx);
  KILN_CHECK_ARG(out_ptr);
  ctx->scratch.reserve(ctx->scratch.size() + 1);  // so the push below cannot throw and leak
  auto ptr = ctx->device->device->allocate(bytes);
  if (!ptr.is_ok()) return to_c_status(ptr.status().with_context(where(ctx) + ": scratch"));
  ctx->scratch.emplace_back(*ptr, bytes);
  *out_ptr = *ptr;
  return nullptr;
  KILN_API_END
}

const char* ctx_get_node_name(const kiln_kernel_context* ctx) {
  return ctx ? ctx->node->name.c_str() : "";
}

const char* ctx_get_op_name(const kiln_kernel_context* ctx) {
  return ctx ? ctx->node->op.c_str() : "";
}

}  // namespace kiln
