// Registration from a plugin's initialize(): validation codes and messages, copies of every
// string, and conflicts with what the registry already has.
#include <gtest/gtest.h>

#include <cstring>
#include <mutex>

#include "api/c_status.h"
#include "runtime/device.h"
#include "runtime/plugin_registry.h"
#include "runtime/registrar.h"

namespace kiln {
namespace {

kiln_status* noop_kernel(kiln_kernel_context*, void*) { return nullptr; }
int32_t one(void*, const char**) { return 1; }
kiln_status* props(void*, int32_t, kiln_device_properties*) { return nullptr; }
kiln_status* alloc(void*, int32_t, size_t, void**) { return nullptr; }
void dealloc(void*, int32_t, void*) {}
kiln_status* copy(void*, int32_t, int32_t, void*, const void*, size_t, void*) { return nullptr; }
kiln_status* zero(void*, int32_t, void*, size_t, void*) { return nullptr; }
kiln_status* sync(void*, int32_t) { return nullptr; }

kiln_device_api device_api(const char* name) {
  kiln_device_api api{};
  api.struct_size = sizeof api;
  api.api = name;
  api.label = "gpu";
  api.get_count = one;
  api.get_properties = props;
  api.allocate = alloc;
  api.deallocate = dealloc;
  api.copy = copy;
  api.memset_zero = zero;
  api.synchronize = sync;
  return api;
}

class Registrar : public ::testing::Test {
 protected:
  Registrar() : lock_(PluginRegistry::instance().mutex()) {
    plugin_.name = "unit";
    registrar_.pending = &plugin_;
    registrar_.registry = &PluginRegistry::instance();
  }

  // Code and message of a registration's status (which is consumed).
  std::pair<StatusCode, std::string> result(kiln_status* s) {
    Status status = from_c_status(s);
    return {status.code(), status.message()};
  }

  std::lock_guard<std::mutex> lock_;
  LoadedPlugin plugin_;
  kiln_registrar registrar_;
};

TEST_F(Registrar, DeviceApisAreValidatedAndCopied) {
  std::string name = "unitdev";
  kiln_device_api api = device_api(name.c_str());
  ASSERT_EQ(registrar_register_device_api(&registrar_, &api), nullptr);
  name = "changed";  // the host kept its own copy
  ASSERT_EQ(plugin_.device_apis.size(), 1u);
  EXPECT_EQ(plugin_.device_apis[0]->api, "unitdev");
  EXPECT_STREQ(plugin_.device_apis[0]->table.api, "unitdev");

  kiln_device_api twice = device_api("unitdev");
  auto [code, message] = result(registrar_register_device_api(&registrar_, &twice));
  EXPECT_EQ(code, StatusCode::kAlreadyExists);
  EXPECT_NE(message.find("registered twice"), std::string::npos);

  kiln_device_api no_copy = device_api("unitdev2");
  no_copy.copy = nullptr;
  std::tie(code, message) = result(registrar_register_device_api(&registrar_, &no_copy));
  EXPECT_EQ(code, StatusCode::kInvalidArgument);
  EXPECT_NE(message.find("has no copy function"), std::string::npos) << message;

  kiln_device_api label = device_api("unitdev2");
  label.label = "npu";
  std::tie(code, message) = result(registrar_register_device_api(&registrar_, &label));
  EXPECT_NE(message.find("label 'npu'"), std::string::npos) << message;

  // An older plugin's smaller table: optional entries past its end are not read.
  kiln_device_api old = device_api("unitdev3");
  old.struct_size = offsetof(kiln_device_api, get_stats);
  old.get_stats = reinterpret_cast<decltype(old.get_stats)>(0x1);  // garbage beyond the size
  ASSERT_EQ(registrar_register_device_api(&registrar_, &old), nullptr);
  EXPECT_EQ(plugin_.device_apis.back()->table.get_stats, nullptr);
}

TEST_F(Registrar, OpsCannotShadowCoreOpsAndNeedSaneArity) {
  kiln_op_def op{};
  op.struct_size = sizeof op;
  op.name = "matmul";
  op.min_outputs = op.max_outputs = 1;
  auto [code, message] = result(registrar_register_op(&registrar_, &op));
  EXPECT_EQ(code, StatusCode::kAlreadyExists);
  EXPECT_NE(message.find("'matmul' is a core op"), std::string::npos) << message;
  op.name = "unit.op";
  op.min_inputs = 2;
  op.max_inputs = 1;
  std::tie(code, message) = result(registrar_register_op(&registrar_, &op));
  EXPECT_EQ(code, StatusCode::kInvalidArgument);
  op.max_inputs = -1;
  op.doc = nullptr;
  ASSERT_EQ(registrar_register_op(&registrar_, &op), nullptr);
  EXPECT_EQ(plugin_.ops.back()->doc, "");
  op.name = "bad name";
  std::tie(code, message) = result(registrar_register_op(&registrar_, &op));
  EXPECT_NE(message.find("'bad name'"), std::string::npos) << message;
}

TEST_F(Registrar, KernelsAreValidatedAndTheirDtypesCopied) {
  int32_t dtypes[] = {KILN_DTYPE_FLOAT32, KILN_DTYPE_INT32};
  kiln_kernel_def k{};
  k.struct_size = sizeof k;
  k.op = "add";
  k.device_api = "unitdev";
  k.dtypes = dtypes;
  k.num_dtypes = 2;
  k.dtype_source = -1;
  k.priority = 7;
  k.compute = noop_kernel;
  k.name = nullptr;  // a name is made up
  ASSERT_EQ(registrar_register_kernel(&registrar_, &k), nullptr);
  dtypes[0] = KILN_DTYPE_INT8;
  const KernelEntry& entry = *plugin_.kernels.back();
  EXPECT_EQ(entry.name, "unit.add");
  EXPECT_TRUE(entry.accepts_dtype(KILN_DTYPE_FLOAT32));
  EXPECT_FALSE(entry.accepts_dtype(KILN_DTYPE_INT8));
  EXPECT_EQ(entry.priority, 7);

  k.num_dtypes = 1;
  dtypes[0] = 12345;
  auto [code, message] = result(registrar_register_kernel(&registrar_, &k));
  EXPECT_EQ(code, StatusCode::kInvalidArgument);
  EXPECT_NE(message.find("dtypes[0] is an unknown dtype code 12345"), std::string::npos) << message;
  k.dtypes = nullptr;
  std::tie(code, message) = result(registrar_register_kernel(&registrar_, &k));
  EXPECT_NE(message.find("dtypes is NULL"), std::string::npos) << message;
  k.num_dtypes = 0;
  k.struct_size = 16;
  std::tie(code, message) = result(registrar_register_kernel(&registrar_, &k));
  EXPECT_NE(message.find("struct_size is 16"), std::string::npos) << message;
}

TEST(RegistrarClosed, RefusesCallsAfterInitialize) {
  kiln_registrar closed;
  closed.open = false;
  kiln_op_def op{};
  Status s = from_c_status(registrar_register_op(&closed, &op));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("valid only during initialize()"), std::string::npos);
  s = from_c_status(registrar_register_kernel(nullptr, nullptr));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace kiln
