// Tensors through kiln.h: creation and its validation, metadata, reads and writes with any
// strides on host and non-host devices, copies between devices, views and their bounds.
#include <numeric>

#include "abi_test_util.h"

namespace kiln_test {
namespace {

class Tensors : public ::testing::Test {
 protected:
  void SetUp() override {
    runtime_ = make_runtime({plugin_path("testdev"), plugin_path("frozen10")});
    host_ = find_device(runtime_.get(), "frozendev:0");  // host-addressable
    gpu0_ = find_device(runtime_.get(), "gpu:0");        // reached only through copies
    gpu1_ = find_device(runtime_.get(), "gpu:1");
  }
  RuntimePtr runtime_;
  kiln_device* host_ = nullptr;
  kiln_device* gpu0_ = nullptr;
  kiln_device* gpu1_ = nullptr;
};

std::vector<float> iota(size_t n) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), 0.0f);
  return v;
}

TensorPtr view(kiln_tensor* t, std::vector<int64_t> shape, std::vector<int64_t> strides,
               int64_t offset) {
  kiln_tensor* v = nullptr;
  EXPECT_TRUE(Ok(kiln_tensor_view(t, KILN_DTYPE_FLOAT32, shape.data(), shape.size(), strides.data(),
                                  offset, &v)));
  return TensorPtr(v);
}

TEST_F(Tensors, CreateIsZeroFilledWithMetadata) {
  for (kiln_device* device : {host_, gpu0_}) {
    const int64_t shape[] = {2, 3};
    kiln_tensor* t = nullptr;
    ASSERT_TRUE(Ok(kiln_tensor_create(device, KILN_DTYPE_FLOAT32, shape, 2, &t)));
    TensorPtr owned(t);
    EXPECT_EQ(kiln_tensor_get_dtype(t), KILN_DTYPE_FLOAT32);
    ASSERT_EQ(kiln_tensor_get_rank(t), 2u);
    EXPECT_EQ(kiln_tensor_get_shape(t)[1], 3);
    EXPECT_EQ(kiln_tensor_get_strides(t)[0], 3);
    EXPECT_EQ(kiln_tensor_get_strides(t)[1], 1);
    EXPECT_EQ(kiln_tensor_get_num_elements(t), 6);
    EXPECT_EQ(kiln_tensor_get_byte_size(t), 24u);
    EXPECT_EQ(kiln_tensor_is_contiguous(t), 1);
    EXPECT_EQ(kiln_tensor_get_device(t), device);
    EXPECT_NE(kiln_tensor_get_data(t), nullptr);
    EXPECT_EQ(read_floats(t), std::vector<float>(6, 0.0f));
  }
  kiln_tensor* scalar = nullptr;
  ASSERT_TRUE(Ok(kiln_tensor_create(gpu0_, KILN_DTYPE_INT64, nullptr, 0, &scalar)));
  TensorPtr owned(scalar);
  EXPECT_EQ(kiln_tensor_get_num_elements(scalar), 1);
  EXPECT_EQ(kiln_tensor_get_shape(scalar), nullptr);
  EXPECT_EQ(kiln_tensor_get_byte_size(scalar), 8u);
}

TEST_F(Tensors, CreateRejectsBadArguments) {
  const int64_t negative[] = {2, -3};
  const int64_t huge[] = {int64_t{1} << 40, int64_t{1} << 40};
  const int64_t ok[] = {2};
  kiln_tensor* t = nullptr;
  EXPECT_TRUE(IsError(kiln_tensor_create(gpu0_, 999, ok, 1, &t), KILN_STATUS_INVALID_ARGUMENT,
                      {"kiln_tensor_create", "dtype 999"}));
  EXPECT_TRUE(IsError(kiln_tensor_create(gpu0_, KILN_DTYPE_FLOAT32, negative, 2, &t),
                      KILN_STATUS_INVALID_ARGUMENT, {"shape[1] is -3"}));
  EXPECT_TRUE(IsError(kiln_tensor_create(gpu0_, KILN_DTYPE_FLOAT32, huge, 2, &t),
                      KILN_STATUS_INVALID_ARGUMENT, {"overflows"}));
  EXPECT_TRUE(IsError(kiln_tensor_create(gpu0_, KILN_DTYPE_FLOAT32, nullptr, 2, &t),
                      KILN_STATUS_INVALID_ARGUMENT, {"shape is NULL"}));
  EXPECT_TRUE(IsError(kiln_tensor_create(nullptr, KILN_DTYPE_FLOAT32, ok, 1, &t),
                      KILN_STATUS_INVALID_ARGUMENT, {"'device'"}));
  EXPECT_TRUE(IsError(kiln_tensor_create(gpu0_, KILN_DTYPE_FLOAT32, ok, 1, nullptr),
                      KILN_STATUS_INVALID_ARGUMENT, {"'out_tensor'"}));
  // More than the device has: the plugin's error, naming the device.
  const int64_t too_big[] = {int64_t{1} << 31};
  EXPECT_TRUE(IsError(kiln_tensor_create(gpu0_, KILN_DTYPE_FLOAT32, too_big, 1, &t),
                      KILN_STATUS_RESOURCE_EXHAUSTED, {"testdev:0", "more than the device has"}));
  const float data[2] = {1, 2};
  EXPECT_TRUE(IsError(kiln_tensor_create_from_host(gpu0_, KILN_DTYPE_FLOAT32, ok, 1, data, 4, &t),
                      KILN_STATUS_INVALID_ARGUMENT, {"data_size is 4 bytes", "8"}));
  EXPECT_TRUE(
      IsError(kiln_tensor_create_from_host(gpu0_, KILN_DTYPE_FLOAT32, ok, 1, nullptr, 8, &t),
              KILN_STATUS_INVALID_ARGUMENT, {"data is NULL"}));
  EXPECT_EQ(t, nullptr);
}

TEST_F(Tensors, ReadAndWriteRoundTripOnEveryDevice) {
  for (kiln_device* device : {host_, gpu0_}) {
    TensorPtr t = make_tensor(device, {2, 3}, iota(6));
    EXPECT_EQ(read_floats(t.get()), iota(6));
    std::vector<float> replacement = {6, 5, 4, 3, 2, 1};
    ASSERT_TRUE(Ok(kiln_tensor_write(t.get(), replacement.data(), 24)));
    EXPECT_EQ(read_floats(t.get()), replacement);
    EXPECT_TRUE(IsError(kiln_tensor_write(t.get(), replacement.data(), 20),
                        KILN_STATUS_INVALID_ARGUMENT, {"src_size is 20"}));
    std::vector<float> small(5);
    EXPECT_TRUE(IsError(kiln_tensor_read(t.get(), small.data(), 20), KILN_STATUS_INVALID_ARGUMENT,
                        {"dst_size is 20"}));
    EXPECT_TRUE(IsError(kiln_tensor_read(t.get(), nullptr, 24), KILN_STATUS_INVALID_ARGUMENT,
                        {"dst is NULL"}));
  }
  EXPECT_TRUE(
      IsError(kiln_tensor_read(nullptr, nullptr, 0), KILN_STATUS_INVALID_ARGUMENT, {"'tensor'"}));
}

TEST_F(Tensors, ViewsReadInCOrderWithAnyStridesAndAreBoundsChecked) {
  for (kiln_device* device : {host_, gpu0_}) {
    TensorPtr t = make_tensor(device, {2, 3}, iota(6));  // [[0 1 2] [3 4 5]]
    TensorPtr transposed = view(t.get(), {3, 2}, {1, 3}, 0);
    EXPECT_EQ(kiln_tensor_is_contiguous(transposed.get()), 0);
    EXPECT_EQ(read_floats(transposed.get()), (std::vector<float>{0, 3, 1, 4, 2, 5}));
    TensorPtr column = view(t.get(), {2}, {3}, 2);
    EXPECT_EQ(read_floats(column.get()), (std::vector<float>{2, 5}));
    // A view of a view: offsets add up.
    TensorPtr last = view(column.get(), {1}, {1}, 3);
    EXPECT_EQ(read_floats(last.get()), (std::vector<float>{5}));
    EXPECT_EQ(static_cast<char*>(kiln_tensor_get_data(last.get())),
              static_cast<char*>(kiln_tensor_get_data(t.get())) + 5 * sizeof(float));
    TensorPtr reversed = view(t.get(), {3}, {-1}, 5);
    EXPECT_EQ(read_floats(reversed.get()), (std::vector<float>{5, 4, 3}));
    // Writes need a contiguous tensor.
    std::vector<float> data(6);
    EXPECT_TRUE(IsError(kiln_tensor_write(transposed.get(), data.data(), 24),
                        KILN_STATUS_FAILED_PRECONDITION, {"not contiguous"}));

    kiln_tensor* v = nullptr;
    const int64_t shape[] = {2, 3};
    const int64_t strides[] = {3, 1};
    EXPECT_TRUE(IsError(kiln_tensor_view(t.get(), KILN_DTYPE_FLOAT32, shape, 2, strides, 1, &v),
                        KILN_STATUS_OUT_OF_RANGE, {"outside [0, 6)"}));
    EXPECT_TRUE(IsError(kiln_tensor_view(t.get(), KILN_DTYPE_FLOAT32, shape, 2, strides, -1, &v),
                        KILN_STATUS_OUT_OF_RANGE, {"outside"}));
    const int64_t tall[] = {3, 1};
    const int64_t huge_strides[] = {int64_t{1} << 62, 1};
    EXPECT_TRUE(IsError(kiln_tensor_view(t.get(), KILN_DTYPE_FLOAT32, tall, 2, huge_strides, 0, &v),
                        KILN_STATUS_OUT_OF_RANGE, {"overflow"}));
    EXPECT_TRUE(IsError(kiln_tensor_view(t.get(), KILN_DTYPE_FLOAT64, shape, 2, nullptr, 0, &v),
                        KILN_STATUS_INVALID_ARGUMENT, {"same size"}));
    const int64_t bad_shape[] = {-2};
    EXPECT_TRUE(IsError(kiln_tensor_view(t.get(), KILN_DTYPE_FLOAT32, bad_shape, 1, nullptr, 0, &v),
                        KILN_STATUS_INVALID_ARGUMENT, {"shape[0] is -2"}));
    EXPECT_EQ(v, nullptr);
    // Reinterpreting as another dtype of the same size is allowed.
    ASSERT_TRUE(Ok(kiln_tensor_view(t.get(), KILN_DTYPE_INT32, shape, 2, nullptr, 0, &v)));
    TensorPtr as_int(v);
    std::vector<int32_t> bits(6);
    ASSERT_TRUE(Ok(kiln_tensor_read(as_int.get(), bits.data(), 24)));
    EXPECT_EQ(bits[1], 0x3f800000);  // 1.0f
  }
}

TEST_F(Tensors, TheStorageLivesUntilItsLastView) {
  TensorPtr t = make_tensor(gpu0_, {4}, iota(4));
  TensorPtr tail = view(t.get(), {2}, {1}, 2);
  t.reset();
  EXPECT_EQ(read_floats(tail.get()), (std::vector<float>{2, 3}));
  kiln_tensor_retain(tail.get());
  kiln_tensor_release(tail.get());
  EXPECT_EQ(read_floats(tail.get()), (std::vector<float>{2, 3}));
}

TEST_F(Tensors, CopyToDeviceWorksBetweenAnyPair) {
  TensorPtr source = make_tensor(gpu0_, {2, 3}, iota(6));
  TensorPtr transposed = view(source.get(), {3, 2}, {1, 3}, 0);
  const std::vector<float> expected = {0, 3, 1, 4, 2, 5};
  for (kiln_device* from_device : {gpu0_, host_}) {
    kiln_tensor* start = nullptr;
    ASSERT_TRUE(Ok(kiln_tensor_copy_to_device(transposed.get(), from_device, &start)));
    TensorPtr owned_start(start);
    for (kiln_device* to : {host_, gpu0_, gpu1_}) {
      kiln_tensor* copy = nullptr;
      ASSERT_TRUE(Ok(kiln_tensor_copy_to_device(start, to, &copy)));
      TensorPtr owned(copy);
      EXPECT_EQ(kiln_tensor_get_device(copy), to);
      EXPECT_EQ(kiln_tensor_is_contiguous(copy), 1);
      EXPECT_EQ(read_floats(copy), expected);
    }
  }
  kiln_tensor* copy = nullptr;
  EXPECT_TRUE(IsError(kiln_tensor_copy_to_device(source.get(), nullptr, &copy),
                      KILN_STATUS_INVALID_ARGUMENT, {"'device'"}));
}

TEST_F(Tensors, ContiguousReturnsTheTensorOrACopy) {
  TensorPtr t = make_tensor(gpu0_, {2, 3}, iota(6));
  kiln_tensor* same = nullptr;
  ASSERT_TRUE(Ok(kiln_tensor_contiguous(t.get(), &same)));
  TensorPtr owned_same(same);
  EXPECT_EQ(same, t.get());
  TensorPtr transposed = view(t.get(), {3, 2}, {1, 3}, 0);
  kiln_tensor* copy = nullptr;
  ASSERT_TRUE(Ok(kiln_tensor_contiguous(transposed.get(), &copy)));
  TensorPtr owned_copy(copy);
  EXPECT_NE(copy, transposed.get());
  EXPECT_EQ(kiln_tensor_is_contiguous(copy), 1);
  EXPECT_EQ(kiln_tensor_get_device(copy), gpu0_);
  EXPECT_EQ(read_floats(copy), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

struct ReleaseCounter {
  int calls = 0;
};

TEST_F(Tensors, BorrowedMemoryIsReleasedOnceAfterTheLastReference) {
  float data[6] = {0, 1, 2, 3, 4, 5};
  ReleaseCounter counter;
  const int64_t shape[] = {3, 2};
  const int64_t strides[] = {1, 3};
  kiln_tensor* t = nullptr;
  ASSERT_TRUE(Ok(kiln_tensor_create_borrowed(
      host_, KILN_DTYPE_FLOAT32, shape, 2, strides, data,
      [](void* c) { static_cast<ReleaseCounter*>(c)->calls++; }, &counter, &t)));
  EXPECT_EQ(kiln_tensor_get_data(t), data);
  EXPECT_EQ(read_floats(t), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  kiln_tensor_retain(t);
  kiln_tensor_release(t);
  EXPECT_EQ(counter.calls, 0);
  TensorPtr tail = view(t, {2}, {3}, 1);
  kiln_tensor_release(t);
  EXPECT_EQ(counter.calls, 0);
  tail.reset();
  EXPECT_EQ(counter.calls, 1);
  // Errors leave the caller's memory alone: no release call.
  const int64_t negative[] = {-1};
  EXPECT_TRUE(IsError(kiln_tensor_create_borrowed(
                          host_, KILN_DTYPE_FLOAT32, negative, 1, nullptr, data,
                          [](void* c) { static_cast<ReleaseCounter*>(c)->calls++; }, &counter, &t),
                      KILN_STATUS_INVALID_ARGUMENT, {"shape[0] is -1"}));
  EXPECT_EQ(counter.calls, 1);
}

TEST_F(Tensors, NullHandlesGiveNeutralValues) {
  EXPECT_EQ(kiln_tensor_get_dtype(nullptr), KILN_DTYPE_INVALID);
  EXPECT_EQ(kiln_tensor_get_rank(nullptr), 0u);
  EXPECT_EQ(kiln_tensor_get_device(nullptr), nullptr);
  kiln_tensor_retain(nullptr);
  kiln_tensor_release(nullptr);
}

}  // namespace
}  // namespace kiln_test
