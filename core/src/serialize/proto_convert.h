// Conversions between IR pieces (types, tensor data, attributes) and their graph.proto
// messages. Reading validates every field; errors name `what` ("node 'n3' attribute 'axis'").
#pragma once

#include <string>

#include "base/status.h"
#include "graph.pb.h"
#include "ir/graph.h"

namespace kiln {

void to_proto(const TensorType& type, proto::TensorType* out);
void to_proto(const HostTensor& tensor, proto::TensorData* out);
void to_proto(const Attribute& attr, proto::Attribute* out);

StatusOr<TensorType> from_proto(const proto::TensorType& type, const std::string& what);
StatusOr<HostTensor> from_proto(const proto::TensorData& data, const std::string& what);
StatusOr<Attribute> from_proto(const proto::Attribute& attr, const std::string& what);

}  // namespace kiln
