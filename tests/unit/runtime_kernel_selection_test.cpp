// Kernel selection: op, device API, the dtype of the operand a kernel selects on, priority, and
// errors that list what does exist.
#include <gtest/gtest.h>

#include "runtime/device.h"
#include "runtime/kernel_selection.h"
#include "runtime/runtime.h"

namespace kiln {
namespace {

kiln_status* noop(kiln_kernel_context*, void*) { return nullptr; }

class KernelSelection : public ::testing::Test {
 protected:
  KernelSelection() {
    api_.api = "unitdev";
    api_.label = "gpu";
    api_.plugin = &plugin_;
    device_ = std::make_unique<Device>(&api_, 0, "Unit", 0);
    handle_.device = device_.get();
    handle_.spec = "gpu:0";
    plugin_.name = "unit";
  }

  const KernelEntry* add(const std::string& op, const std::string& api, std::vector<int32_t> dtypes,
                         int32_t source, int32_t priority, const std::string& name) {
    auto k = std::make_unique<KernelEntry>();
    k->plugin = &plugin_;
    k->op = op;
    k->device_api = api;
    k->dtypes = std::move(dtypes);
    k->dtype_source = source;
    k->priority = priority;
    k->compute = noop;
    k->name = name;
    plugin_.kernels.push_back(std::move(k));
    return plugin_.kernels.back().get();
  }

  StatusOr<const KernelEntry*> select(const std::string& op, std::vector<DType> in,
                                      DType out = DType::kFloat32) {
    Node node;
    node.op = op;
    node.name = "n1";
    std::vector<TensorType> inputs, outputs(1);
    for (DType d : in) inputs.push_back(TensorType{d, {}, ""});
    outputs[0].dtype = out;
    return select_kernel({&plugin_}, node, inputs, outputs, &handle_);
  }

  LoadedPlugin plugin_;
  DeviceApiEntry api_;
  std::unique_ptr<Device> device_;
  kiln_device handle_;
};

TEST_F(KernelSelection, HighestPriorityAmongMatchingKernelsWins) {
  const KernelEntry* base = add("add", "unitdev", {KILN_DTYPE_FLOAT32}, 0, 0, "base");
  const KernelEntry* fast = add("add", "unitdev", {KILN_DTYPE_FLOAT32}, 0, 5, "fast");
  add("add", "otherdev", {KILN_DTYPE_FLOAT32}, 0, 9, "elsewhere");
  add("add", "unitdev", {KILN_DTYPE_INT32}, 0, 9, "ints");
  const KernelEntry* tie = add("add", "unitdev", {}, 0, 5, "tie");
  auto k = select("add", {DType::kFloat32, DType::kFloat32});
  ASSERT_TRUE(k.is_ok());
  EXPECT_EQ(*k, fast);  // "tie" has equal priority but came later
  (void)base;
  (void)tie;
}

TEST_F(KernelSelection, TheDtypeSourceDecides) {
  // `where`-like: selected by input 1, not by its bool condition.
  const KernelEntry* by_x = add("where", "unitdev", {KILN_DTYPE_FLOAT16}, 1, 0, "where.f16");
  auto k = select("where", {DType::kBool, DType::kFloat16, DType::kFloat16});
  ASSERT_TRUE(k.is_ok());
  EXPECT_EQ(*k, by_x);
  const KernelEntry* by_out = add("cast", "unitdev", {KILN_DTYPE_INT8}, -1, 0, "cast.to_i8");
  k = select("cast", {DType::kFloat32}, DType::kInt8);
  ASSERT_TRUE(k.is_ok());
  EXPECT_EQ(*k, by_out);
  // A dtype_source past the node's inputs never matches.
  add("neg", "unitdev", {}, 3, 0, "neg.bad_source");
  EXPECT_FALSE(select("neg", {DType::kFloat32}).is_ok());
}

TEST_F(KernelSelection, ErrorsListWhatExists) {
  add("add", "unitdev", {KILN_DTYPE_FLOAT32, KILN_DTYPE_INT32}, 0, 0, "unit.add");
  add("mul", "otherdev", {}, 0, 0, "other.mul");
  auto k = select("add", {DType::kFloat16, DType::kFloat16});
  ASSERT_FALSE(k.is_ok());
  EXPECT_EQ(k.status().code(), StatusCode::kNotFound);
  EXPECT_NE(k.status().message().find(
                "no kernel for add 'n1' with dtype float16 on device gpu:0 (device API "
                "'unitdev'); kernels for 'add' on 'unitdev': 'unit.add' accepts float32, int32 "
                "(of input 0)"),
            std::string::npos)
      << k.status().message();
  k = select("mul", {DType::kFloat32, DType::kFloat32});
  ASSERT_FALSE(k.is_ok());
  EXPECT_NE(k.status().message().find("exist only for device APIs: otherdev"), std::string::npos);
  k = select("sub", {DType::kFloat32, DType::kFloat32});
  EXPECT_NE(k.status().message().find("no loaded plugin has a kernel for op 'sub'"),
            std::string::npos);
}

}  // namespace
}  // namespace kiln
