// The C ABI of DLPack export and import.
#include "api/c_status.h"
#include "api/runtime_handles.h"
#include "runtime/dlpack.h"

namespace {

kiln_status* fail(const char* function, const kiln::Status& status) {
  return kiln::make_c_status(status.code(), std::string(function) + ": " + status.message());
}

}  // namespace

extern "C" {

kiln_status* kiln_tensor_to_dlpack_versioned(kiln_tensor* tensor,
                                             struct DLManagedTensorVersioned** out) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(tensor);
  KILN_CHECK_ARG(out);
  auto managed = kiln::export_dlpack_versioned(tensor);
  if (!managed.is_ok()) return fail(__func__, managed.status());
  *out = *managed;
  return nullptr;
  KILN_API_END
}

kiln_status* kiln_tensor_to_dlpack(kiln_tensor* tensor, struct DLManagedTensor** out) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(tensor);
  KILN_CHECK_ARG(out);
  auto managed = kiln::export_dlpack(tensor);
  if (!managed.is_ok()) return fail(__func__, managed.status());
  *out = *managed;
  return nullptr;
  KILN_API_END
}

kiln_status* kiln_tensor_from_dlpack_versioned(kiln_runtime* runtime,
                                               struct DLManagedTensorVersioned* managed,
                                               kiln_tensor** out_tensor) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(runtime);
  KILN_CHECK_ARG(managed);
  KILN_CHECK_ARG(out_tensor);
  auto t = kiln::import_dlpack_versioned(*runtime->runtime, managed);
  if (!t.is_ok()) return fail(__func__, t.status());
  *out_tensor = t->release();
  return nullptr;
  KILN_API_END
}

kiln_status* kiln_tensor_from_dlpack(kiln_runtime* runtime, struct DLManagedTensor* managed,
                                     kiln_tensor** out_tensor) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(runtime);
  KILN_CHECK_ARG(managed);
  KILN_CHECK_ARG(out_tensor);
  auto t = kiln::import_dlpack(*runtime->runtime, managed);
  if (!t.is_ok()) return fail(__func__, t.status());
  *out_tensor = t->release();
  return nullptr;
  KILN_API_END
}

}  // extern "C"
