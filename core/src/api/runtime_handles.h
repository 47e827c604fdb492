// The C handles of the runtime side: each holds a shared reference to its internal object, so
// destroying a handle never pulls the object from under another handle that still needs it
// (a model keeps its session, a session its runtime, a tensor its runtime).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "runtime/model.h"
#include "runtime/runtime.h"
#include "runtime/session.h"

struct kiln_runtime {
  std::shared_ptr<kiln::Runtime> runtime;
};

struct kiln_session {
  std::shared_ptr<kiln::Session> session;
};

struct kiln_model {
  std::shared_ptr<kiln::Model> model;
};

// kiln_device and kiln_tensor are the internal objects themselves (runtime/runtime.h,
// runtime/tensor.h): a device handle lives as long as its runtime, a tensor is ref-counted.

namespace kiln {

// INVALID_ARGUMENT unless an option or out struct's struct_size covers at least `min_size`.
inline Status check_struct_size(size_t struct_size, size_t min_size, const char* type,
                                const char* function) {
  if (struct_size >= min_size) return Status::ok();
  return invalid_argument(std::string(function) + ": " + type + ".struct_size is " +
                          std::to_string(struct_size) + "; initialize it with sizeof(" + type +
                          ") or its *_init function");
}

}  // namespace kiln

// Bytes of `type` up to and including `field`: the smallest struct_size a caller may pass.
#define KILN_SIZE_THROUGH(type, field) (offsetof(type, field) + sizeof(((type*)nullptr)->field))
