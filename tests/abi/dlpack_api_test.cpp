// DLPack through kiln.h: export shares storage and keeps the tensor alive; import is zero-copy,
// validated, and calls the producer's deleter exactly once.
#include "abi_test_util.h"
#include "runtime/dlpack_abi.h"

namespace kiln_test {
namespace {

class DLPack : public ::testing::Test {
 protected:
  void SetUp() override {
    runtime_ = make_runtime({plugin_path("testdev"), plugin_path("frozen10")});
    host_ = find_device(runtime_.get(), "frozendev:0");
  }
  RuntimePtr runtime_;
  kiln_device* host_ = nullptr;
};

// A producer's tensor: host floats with a deleter that counts its calls.
struct Produced {
  float data[6] = {0, 1, 2, 3, 4, 5};
  int64_t shape[2] = {2, 3};
  int64_t strides[2] = {3, 1};
  int deleted = 0;
  DLManagedTensorVersioned managed{};

  Produced() {
    managed.version = {1, 0};
    managed.manager_ctx = this;
    managed.deleter = [](DLManagedTensorVersioned* self) {
      static_cast<Produced*>(self->manager_ctx)->deleted++;
    };
    DLTensor& t = managed.dl_tensor;
    t.data = data;
    t.device = {kDLCPU, 0};
    t.ndim = 2;
    t.dtype = {kDLFloat, 32, 1};
    t.shape = shape;
    t.strides = strides;
    t.byte_offset = 0;
  }
};

TEST_F(DLPack, ExportSharesTheStorageAndHoldsAReference) {
  TensorPtr t = make_tensor(host_, {2, 3}, {0, 1, 2, 3, 4, 5});
  void* data = kiln_tensor_get_data(t.get());
  DLManagedTensorVersioned* managed = nullptr;
  ASSERT_TRUE(Ok(kiln_tensor_to_dlpack_versioned(t.get(), &managed)));
  t.reset();  // the managed tensor keeps it alive
  EXPECT_EQ(managed->version.major, 1u);
  EXPECT_EQ(managed->flags, 0u);
  const DLTensor& dl = managed->dl_tensor;
  EXPECT_EQ(dl.data, data);
  EXPECT_EQ(dl.device.device_type, kDLCPU);
  EXPECT_EQ(dl.ndim, 2);
  EXPECT_EQ(dl.dtype.code, kDLFloat);
  EXPECT_EQ(dl.dtype.bits, 32);
  EXPECT_EQ(dl.dtype.lanes, 1);
  EXPECT_EQ(dl.shape[1], 3);
  EXPECT_EQ(dl.strides[0], 3);
  EXPECT_EQ(static_cast<float*>(dl.data)[5], 5.0f);
  managed->deleter(managed);

  t = make_tensor(host_, {2}, {7, 8});
  DLManagedTensor* legacy = nullptr;
  ASSERT_TRUE(Ok(kiln_tensor_to_dlpack(t.get(), &legacy)));
  // Import it back: the same memory, no copy; kiln now owns `legacy`.
  kiln_tensor* back = nullptr;
  ASSERT_TRUE(Ok(kiln_tensor_from_dlpack(runtime_.get(), legacy, &back)));
  TensorPtr owned(back);
  EXPECT_EQ(kiln_tensor_get_data(back), kiln_tensor_get_data(t.get()));
  EXPECT_EQ(read_floats(back), (std::vector<float>{7, 8}));
}

TEST_F(DLPack, ExportRefusesWhatDLPackCannotDescribe) {
  TensorPtr on_testdev = make_tensor(find_device(runtime_.get(), "gpu:0"), {1}, {1});
  DLManagedTensorVersioned* managed = nullptr;
  EXPECT_TRUE(IsError(kiln_tensor_to_dlpack_versioned(on_testdev.get(), &managed),
                      KILN_STATUS_UNIMPLEMENTED, {"testdev", "no DLPack device type"}));
  const int64_t shape[] = {2};
  kiln_tensor* f8 = nullptr;
  ASSERT_TRUE(Ok(kiln_tensor_create(host_, KILN_DTYPE_FLOAT8_E4M3FN, shape, 1, &f8)));
  TensorPtr owned(f8);
  EXPECT_TRUE(IsError(kiln_tensor_to_dlpack_versioned(f8, &managed), KILN_STATUS_UNIMPLEMENTED,
                      {"float8"}));
  EXPECT_EQ(managed, nullptr);
  EXPECT_TRUE(IsError(kiln_tensor_to_dlpack_versioned(nullptr, &managed),
                      KILN_STATUS_INVALID_ARGUMENT, {"'tensor'"}));
}

TEST_F(DLPack, ImportIsZeroCopyAndCallsTheDeleterOnce) {
  Produced p;
  kiln_tensor* t = nullptr;
  ASSERT_TRUE(Ok(kiln_tensor_from_dlpack_versioned(runtime_.get(), &p.managed, &t)));
  EXPECT_EQ(kiln_tensor_get_data(t), p.data);
  EXPECT_EQ(kiln_tensor_get_device(t), host_);
  EXPECT_EQ(read_floats(t), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  p.data[0] = 42;  // shared memory
  EXPECT_EQ(read_floats(t)[0], 42.0f);
  kiln_tensor_release(t);
  EXPECT_EQ(p.deleted, 1);
}

TEST_F(DLPack, ImportHonoursStridesOffsetAndReadOnly) {
  Produced p;
  p.shape[0] = 3;
  p.shape[1] = 2;
  p.strides[0] = 1;
  p.strides[1] = 3;  // the transpose
  p.managed.flags = kDLPackFlagBitmaskReadOnly;
  kiln_tensor* t = nullptr;
  ASSERT_TRUE(Ok(kiln_tensor_from_dlpack_versioned(runtime_.get(), &p.managed, &t)));
  TensorPtr owned(t);
  EXPECT_EQ(read_floats(t), (std::vector<float>{0, 3, 1, 4, 2, 5}));

  Produced q;
  q.shape[0] = 1;
  q.managed.dl_tensor.byte_offset = 3 * sizeof(float);
  q.managed.flags = kDLPackFlagBitmaskReadOnly;
  kiln_tensor* u = nullptr;
  ASSERT_TRUE(Ok(kiln_tensor_from_dlpack_versioned(runtime_.get(), &q.managed, &u)));
  TensorPtr owned_u(u);
  EXPECT_EQ(read_floats(u), (std::vector<float>{3, 4, 5}));
  float values[3] = {};
  EXPECT_TRUE(IsError(kiln_tensor_write(u, values, sizeof values), KILN_STATUS_FAILED_PRECONDITION,
                      {"read-only"}));
}

TEST_F(DLPack, ImportValidatesEverythingAndLeavesOwnershipOnFailure) {
  kiln_tensor* t = nullptr;
  struct Case {
    const char* what;
    void (*spoil)(Produced&);
    int32_t code;
    const char* message;
  };
  const Case cases[] = {
      {"ndim", [](Produced& p) { p.managed.dl_tensor.ndim = -1; }, KILN_STATUS_INVALID_ARGUMENT,
       "ndim -1"},
      {"shape", [](Produced& p) { p.shape[1] = -3; }, KILN_STATUS_INVALID_ARGUMENT,
       "shape[1] = -3"},
      {"no shape", [](Produced& p) { p.managed.dl_tensor.shape = nullptr; },
       KILN_STATUS_INVALID_ARGUMENT, "no shape"},
      {"lanes", [](Produced& p) { p.managed.dl_tensor.dtype.lanes = 4; },
       KILN_STATUS_INVALID_ARGUMENT, "4 lanes"},
      {"dtype",
       [](Produced& p) {
         p.managed.dl_tensor.dtype = {kDLComplex, 64, 1};
       },
       KILN_STATUS_INVALID_ARGUMENT, "no kiln dtype"},
      {"device",
       [](Produced& p) {
         p.managed.dl_tensor.device = {kDLCUDA, 0};
       },
       KILN_STATUS_NOT_FOUND, "no device 'cuda:0'"},
      {"device type",
       [](Produced& p) {
         p.managed.dl_tensor.device = {kDLVulkan, 0};
       },
       KILN_STATUS_UNIMPLEMENTED, "type 7"},
      {"version",
       [](Produced& p) {
         p.managed.version = {2, 0};
       },
       KILN_STATUS_INVALID_ARGUMENT, "version 2.0"},
      {"strides",
       [](Produced& p) {
         p.strides[0] = int64_t{1} << 62;
         p.shape[0] = 5;
       },
       KILN_STATUS_OUT_OF_RANGE, "overflow"},
      {"data", [](Produced& p) { p.managed.dl_tensor.data = nullptr; },
       KILN_STATUS_INVALID_ARGUMENT, "data is NULL"},
  };
  for (const Case& c : cases) {
    Produced p;
    c.spoil(p);
    EXPECT_TRUE(IsError(kiln_tensor_from_dlpack_versioned(runtime_.get(), &p.managed, &t), c.code,
                        {"kiln_tensor_from_dlpack_versioned", c.message}))
        << c.what;
    EXPECT_EQ(p.deleted, 0) << c.what;
  }
  EXPECT_EQ(t, nullptr);
  Produced p;
  EXPECT_TRUE(IsError(kiln_tensor_from_dlpack_versioned(nullptr, &p.managed, &t),
                      KILN_STATUS_INVALID_ARGUMENT, {"'runtime'"}));
  // Without a host device, a CPU tensor has nowhere to go.
  RuntimePtr no_host = make_runtime({plugin_path("testdev")});
  EXPECT_TRUE(IsError(kiln_tensor_from_dlpack_versioned(no_host.get(), &p.managed, &t),
                      KILN_STATUS_NOT_FOUND, {"no host device"}));
  EXPECT_EQ(p.deleted, 0);
}

}  // namespace
}  // namespace kiln_test
