// Collective ops: values spread over several devices, one operand and one output per device.
#include "ops/op_schema.h"
#include "ops/op_table.h"

namespace kiln {
namespace {

// A device ref as placement reads it: "cpu" and "cpu:0" (likewise "gpu") name one device.
std::string canonical_device_ref(const std::string& ref) {
  if (ref == "cpu" || ref == "gpu") return ref + ":0";
  return ref;
}

// allgather: operand i on device i (all devices different), one dtype and rank, shapes equal off
// `axis`. Every output is the concatenation of all operands along `axis`; output i lives on the
// device of operand i (op_schema.cpp places it there, see places_outputs_by_operand).
StatusOr<std::vector<TensorType>> infer_allgather(const OpContext& ctx) {
  const TensorType& first = ctx.input(0);
  if (!ctx.node.device.empty() &&
      canonical_device_ref(ctx.node.device) != canonical_device_ref(first.device)) {
    return ctx.error("the node names device '" + ctx.node.device + "' but " + ctx.operand(0) +
                     " is on '" + first.device +
                     "'; allgather places each output on the device of its operand, so the node "
                     "names no device of its own");
  }
  KILN_ASSIGN_OR_RETURN(Shape shape, joined_shape(ctx, "gather"));
  // One operand per device. Refs that differ in text may still name one device ("" is the
  // session's first device); loading checks the devices they resolve to as well.
  for (size_t k = 1; k < ctx.inputs.size(); ++k) {
    for (size_t j = 0; j < k; ++j) {
      if (canonical_device_ref(ctx.input(j).device) != canonical_device_ref(ctx.input(k).device))
        continue;
      const std::string& ref = ctx.input(k).device;
      return ctx.error(
          ctx.operand(j) + " and " + ctx.operand(k) + " are both on device " +
          (ref.empty() ? std::string("'' (the session's first device)") : "'" + ref + "'") +
          "; allgather takes one operand per device");
    }
  }
  std::vector<TensorType> out(ctx.inputs.size());
  for (TensorType& t : out) {
    t.dtype = first.dtype;
    t.shape = shape;
  }
  return out;
}

}  // namespace

void add_collective_schemas(std::vector<OpSchema>& out) {
  out.push_back({"allgather", 1, SIZE_MAX, {}, {"axis"}, DtypeClass::kAny, infer_allgather});
}

}  // namespace kiln
