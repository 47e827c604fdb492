// kernels.cpp: the shared kernel registration helper and dtype lists.
#include "kernels.h"

#include <atomic>
#include <string>
#include <vector>

#include "host.h"

namespace kiln_cpu {

const std::initializer_list<int32_t> kFloatTypes = {KILN_DTYPE_FLOAT32, KILN_DTYPE_FLOAT16,
                                                    KILN_DTYPE_BFLOAT16, KILN_DTYPE_FLOAT64};
const std::initializer_list<int32_t> kArithmeticTypes = {KILN_DTYPE_FLOAT32,  KILN_DTYPE_FLOAT16,
                                                         KILN_DTYPE_BFLOAT16, KILN_DTYPE_FLOAT64,
                                                         KILN_DTYPE_INT32,    KILN_DTYPE_INT64};
const std::initializer_list<int32_t> kCastTypes = {
    KILN_DTYPE_FLOAT32, KILN_DTYPE_FLOAT16,       KILN_DTYPE_BFLOAT16,   KILN_DTYPE_FLOAT64,
    KILN_DTYPE_INT32,   KILN_DTYPE_INT64,         KILN_DTYPE_BOOL,       KILN_DTYPE_UINT8,
    KILN_DTYPE_INT8,    KILN_DTYPE_INT16,         KILN_DTYPE_UINT16,     KILN_DTYPE_UINT32,
    KILN_DTYPE_UINT64,  KILN_DTYPE_FLOAT8_E4M3FN, KILN_DTYPE_FLOAT8_E5M2};
const std::initializer_list<int32_t> kIntegerTypes = {
    KILN_DTYPE_INT8,  KILN_DTYPE_INT16,  KILN_DTYPE_INT32,  KILN_DTYPE_INT64,
    KILN_DTYPE_UINT8, KILN_DTYPE_UINT16, KILN_DTYPE_UINT32, KILN_DTYPE_UINT64};
const std::initializer_list<int32_t> kNumericTypes = {
    KILN_DTYPE_FLOAT32, KILN_DTYPE_FLOAT16, KILN_DTYPE_BFLOAT16, KILN_DTYPE_FLOAT64,
    KILN_DTYPE_INT8,    KILN_DTYPE_INT16,   KILN_DTYPE_INT32,    KILN_DTYPE_INT64,
    KILN_DTYPE_UINT8,   KILN_DTYPE_UINT16,  KILN_DTYPE_UINT32,   KILN_DTYPE_UINT64};
const std::initializer_list<int32_t> kNumericOrBoolTypes = {
    KILN_DTYPE_FLOAT32, KILN_DTYPE_FLOAT16, KILN_DTYPE_BFLOAT16, KILN_DTYPE_FLOAT64,
    KILN_DTYPE_INT8,    KILN_DTYPE_INT16,   KILN_DTYPE_INT32,    KILN_DTYPE_INT64,
    KILN_DTYPE_UINT8,   KILN_DTYPE_UINT16,  KILN_DTYPE_UINT32,   KILN_DTYPE_UINT64,
    KILN_DTYPE_BOOL};

namespace {
std::atomic<int> g_registered{0};
}  // namespace

kiln_status* register_kernel(kiln_registrar* registrar, const char* op,
                             std::initializer_list<int32_t> dtypes, int32_t dtype_source,
                             kiln_kernel_fn fn, const void* user_data) {
  const std::vector<int32_t> list(dtypes);
  const std::string name = std::string("cpu.") + op;
  kiln_kernel_def def{};
  def.struct_size = sizeof def;
  def.op = op;
  def.device_api = "cpu";
  def.dtypes = list.empty() ? nullptr : list.data();
  def.num_dtypes = list.size();
  def.dtype_source = dtype_source;
  def.priority = 0;
  def.compute = fn;
  def.user_data = const_cast<void*>(user_data);
  def.name = name.c_str();
  KILN_CPU_TRY(g_host->register_kernel(registrar, &def));
  g_registered.fetch_add(1);
  return nullptr;
}

int registered_kernel_count() { return g_registered.load(); }

}  // namespace kiln_cpu
