// DLPack export and import (v1.0, both the versioned and the legacy managed struct). Export
// shares the storage (the managed tensor holds a reference); import wraps the producer's memory
// without a copy and calls its deleter when the last reference goes.
#pragma once

#include "base/status.h"
#include "runtime/dlpack_abi.h"
#include "runtime/tensor.h"

namespace kiln {

class Runtime;

StatusOr<DLManagedTensorVersioned*> export_dlpack_versioned(kiln_tensor* tensor);
StatusOr<DLManagedTensor*> export_dlpack(kiln_tensor* tensor);
// On success the tensor owns `managed`; on failure the caller still does.
StatusOr<TensorPtr> import_dlpack_versioned(Runtime& runtime, DLManagedTensorVersioned* managed);
StatusOr<TensorPtr> import_dlpack(Runtime& runtime, DLManagedTensor* managed);

}  // namespace kiln
