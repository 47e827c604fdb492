// IR <-> graph.proto conversions for types, tensor data and attributes, validating on read.
#include "serialize/proto_convert.h"

#include "ir/limits.h"
#include "ir/type_checks.h"

namespace kiln {

void to_proto(const TensorType& type, proto::TensorType* out) {
  out->set_dtype(static_cast<int32_t>(type.dtype));
  for (const Dim& d : type.shape) {
    proto::Dim* pd = out->add_dims();
    if (d.is_static()) {
      pd->set_static_size(d.value());
    } else {
      pd->set_expr(d.to_string());
    }
  }
  out->set_device(type.device);
  if (type.buffer) out->set_buffer(true);
}

void to_proto(const HostTensor& tensor, proto::TensorData* out) {
  out->set_dtype(static_cast<int32_t>(tensor.dtype));
  for (int64_t d : tensor.shape) out->add_shape(d);
  if (tensor.byte_size() > 0) {
    out->set_data(reinterpret_cast<const char*>(tensor.data()), tensor.byte_size());
  }
}

void to_proto(const Attribute& attr, proto::Attribute* out) {
  const auto& v = attr.value;
  if (const auto* i = std::get_if<int64_t>(&v)) {
    out->set_i(*i);
  } else if (const auto* f = std::get_if<double>(&v)) {
    out->set_f(*f);
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    out->set_s(*s);
  } else if (const auto* ints = std::get_if<std::vector<int64_t>>(&v)) {
    auto* list = out->mutable_ints();
    for (int64_t x : *ints) list->add_values(x);
  } else if (const auto* floats = std::get_if<std::vector<double>>(&v)) {
    auto* list = out->mutable_floats();
    for (double x : *floats) list->add_values(x);
  } else if (const auto* b = std::get_if<bool>(&v)) {
    out->set_b(*b);
  } else if (const auto* t = std::get_if<DType>(&v)) {
    out->set_dtype(static_cast<int32_t>(*t));
  } else if (const auto* tensor = std::get_if<HostTensor>(&v)) {
    to_proto(*tensor, out->mutable_tensor());
  }
}

StatusOr<TensorType> from_proto(const proto::TensorType& type, const std::string& what) {
  TensorType out;
  if (static_cast<size_t>(type.dims_size()) > kMaxRank) {
    return invalid_argument(what + " has rank " + std::to_string(type.dims_size()) +
                            ", over the limit of " + std::to_string(kMaxRank));
  }
  out.dtype = static_cast<DType>(type.dtype());
  for (int i = 0; i < type.dims_size(); ++i) {
    const proto::Dim& d = type.dims(i);
    switch (d.kind_case()) {
      case proto::Dim::kStaticSize:
        out.shape.emplace_back(d.static_size());
        break;
      case proto::Dim::kExpr: {
        auto parsed = Dim::parse(d.expr());
        if (!parsed.is_ok()) {
          return invalid_argument(what + " dim " + std::to_string(i) + ": " +
                                  parsed.status().message());
        }
        out.shape.push_back(std::move(parsed).value());
        break;
      }
      default:
        return invalid_argument(what + " dim " + std::to_string(i) +
                                " has neither a size nor an "
                                "expression");
    }
  }
  out.device = type.device();
  out.buffer = type.buffer();
  KILN_RETURN_IF_ERROR(check_tensor_type(out, what));
  return out;
}

StatusOr<HostTensor> from_proto(const proto::TensorData& data, const std::string& what) {
  if (static_cast<size_t>(data.shape_size()) > kMaxRank) {
    return invalid_argument(what + " has rank " + std::to_string(data.shape_size()) +
                            ", over the limit of " + std::to_string(kMaxRank));
  }
  HostTensor out;
  out.dtype = static_cast<DType>(data.dtype());
  out.shape.assign(data.shape().begin(), data.shape().end());
  // Checked before the payload is copied.
  const std::string& bytes = data.data();
  KILN_RETURN_IF_ERROR(check_tensor_data(out.dtype, out.shape, bytes.size(), what));
  out.bytes = std::make_shared<const std::vector<uint8_t>>(bytes.begin(), bytes.end());
  return out;
}

StatusOr<Attribute> from_proto(const proto::Attribute& attr, const std::string& what) {
  Attribute out;
  switch (attr.value_case()) {
    case proto::Attribute::kI:
      out.value = attr.i();
      break;
    case proto::Attribute::kF:
      out.value = attr.f();
      break;
    case proto::Attribute::kS:
      out.value = attr.s();
      break;
    case proto::Attribute::kInts:
      out.value = std::vector<int64_t>(attr.ints().values().begin(), attr.ints().values().end());
      break;
    case proto::Attribute::kFloats:
      out.value = std::vector<double>(attr.floats().values().begin(), attr.floats().values().end());
      break;
    case proto::Attribute::kB:
      out.value = attr.b();
      break;
    case proto::Attribute::kDtype:
      if (!dtype_is_valid(attr.dtype())) {
        return invalid_argument(what + " is an unknown dtype code " + std::to_string(attr.dtype()));
      }
      out.value = static_cast<DType>(attr.dtype());
      break;
    case proto::Attribute::kTensor: {
      KILN_ASSIGN_OR_RETURN(HostTensor t, from_proto(attr.tensor(), what));
      out.value = std::move(t);
      break;
    }
    default:
      return invalid_argument(what + " has no value");
  }
  return out;
}

}  // namespace kiln
