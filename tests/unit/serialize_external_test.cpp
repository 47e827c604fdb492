// External weights: reading inside the graph's folder, and every way out of it refused
// (absolute paths, "..", symlinked files and folders, a sibling folder sharing a name prefix),
// plus offsets past the end, missing files and files that are not regular.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ir/graph_builder.h"
#include "serialize/serialize.h"

namespace fs = std::filesystem;

namespace kiln {
namespace {

class ExternalWeightTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kiln_external_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/model";
    // A sibling whose name starts with the model folder's: a string-prefix check would pass it.
    outside_ = root_ + "/modelx";
    fs::create_directories(dir_);
    fs::create_directories(outside_);
    std::vector<char> bytes(64);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i);
    write_file(dir_ + "/weights.bin", bytes);
    write_file(outside_ + "/secret.bin", bytes);
  }
  void TearDown() override { fs::remove_all(root_); }

  static void write_file(const std::string& path, const std::vector<char>& bytes) {
    std::ofstream f(path, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  // A graph in dir_ with one float32[4] weight at `path`+`offset`, bypassing the builder's
  // checks so that read_external_weight's own checks are what is tested.
  Graph graph_with(const std::string& path, uint64_t offset, uint64_t length = 16) {
    Graph g;
    g.name = "g";
    g.base_dir = dir_;
    TensorType t;
    t.dtype = DType::kFloat32;
    t.shape = {Dim(4)};
    g.values.push_back(Value{"w", t, -1});
    Weight w;
    w.name = "w";
    w.value = 0;
    w.external = ExternalRef{path, offset, length};
    g.weights.push_back(w);
    return g;
  }

  StatusOr<HostTensor> read(const std::string& path, uint64_t offset, uint64_t length = 16) {
    Graph g = graph_with(path, offset, length);
    return read_external_weight(g, g.weights[0]);
  }

  std::string root_, dir_, outside_;
};

TEST_F(ExternalWeightTest, ReadsTheRange) {
  auto t = read("weights.bin", 8);
  ASSERT_TRUE(t.is_ok()) << t.status().to_string();
  EXPECT_EQ(t->dtype, DType::kFloat32);
  EXPECT_EQ(t->shape, (std::vector<int64_t>{4}));
  ASSERT_EQ(t->byte_size(), 16u);
  for (size_t i = 0; i < 16; ++i) EXPECT_EQ(t->data()[i], i + 8);
  EXPECT_TRUE(read("weights.bin", 48).is_ok());  // ends exactly at the end of the file
  EXPECT_TRUE(read("./weights.bin", 0).is_ok());
}

TEST_F(ExternalWeightTest, RangePastTheEnd) {
  auto t = read("weights.bin", 49);
  ASSERT_FALSE(t.is_ok());
  EXPECT_EQ(t.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(t.status().message().find("past the end of 'weights.bin' (64 bytes)"),
            std::string::npos)
      << t.status().message();
  EXPECT_EQ(read("weights.bin", UINT64_MAX - 3).status().code(), StatusCode::kOutOfRange);
}

TEST_F(ExternalWeightTest, LengthMustMatchType) {
  auto t = read("weights.bin", 0, 12);
  ASSERT_FALSE(t.is_ok());
  EXPECT_NE(t.status().message().find("external length of 12 bytes but its type float32[4] "
                                      "needs 16"),
            std::string::npos);
}

TEST_F(ExternalWeightTest, MissingFile) {
  auto t = read("nope.bin", 0);
  ASSERT_FALSE(t.is_ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_NE(t.status().message().find("'nope.bin'"), std::string::npos);
}

TEST_F(ExternalWeightTest, RefusesPathsOut) {
  for (const std::string& path :
       {outside_ + "/secret.bin", std::string("../modelx/secret.bin"), std::string("a/../../x")}) {
    auto t = read(path, 0);
    ASSERT_FALSE(t.is_ok()) << path;
    EXPECT_EQ(t.status().code(), StatusCode::kPermissionDenied) << t.status().to_string();
  }
}

TEST_F(ExternalWeightTest, RefusesSymlinksOut) {
  fs::create_symlink(outside_ + "/secret.bin", dir_ + "/link.bin");
  auto file = read("link.bin", 0);
  ASSERT_FALSE(file.is_ok());
  EXPECT_EQ(file.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(file.status().message().find("outside the graph's folder"), std::string::npos)
      << file.status().message();
  fs::create_directory_symlink(outside_, dir_ + "/linked_dir");
  auto folder = read("linked_dir/secret.bin", 0);
  ASSERT_FALSE(folder.is_ok());
  EXPECT_EQ(folder.status().code(), StatusCode::kPermissionDenied);
  fs::create_symlink("/etc/hostname", dir_ + "/etc.bin");
  EXPECT_EQ(read("etc.bin", 0).status().code(), StatusCode::kPermissionDenied);
}

TEST_F(ExternalWeightTest, AllowsSymlinksInside) {
  fs::create_directories(dir_ + "/shards");
  fs::create_symlink("../weights.bin", dir_ + "/shards/alias.bin");
  auto t = read("shards/alias.bin", 4);
  ASSERT_TRUE(t.is_ok()) << t.status().to_string();
  EXPECT_EQ(t->data()[0], 4);
}

TEST_F(ExternalWeightTest, RefusesNonRegularFiles) {
  ASSERT_EQ(mkfifo((dir_ + "/pipe.bin").c_str(), 0600), 0);
  auto pipe = read("pipe.bin", 0);  // must not block waiting for a writer
  ASSERT_FALSE(pipe.is_ok());
  EXPECT_NE(pipe.status().message().find("not a regular file"), std::string::npos);
  fs::create_directories(dir_ + "/folder.bin");
  EXPECT_FALSE(read("folder.bin", 0).is_ok());
}

TEST_F(ExternalWeightTest, WeightWithoutExternalSource) {
  Graph g = graph_with("weights.bin", 0);
  g.weights[0].external.reset();
  EXPECT_EQ(read_external_weight(g, g.weights[0]).status().code(), StatusCode::kInvalidArgument);
  g.weights[0].value = 7;
  g.weights[0].external = ExternalRef{"weights.bin", 0, 16};
  EXPECT_EQ(read_external_weight(g, g.weights[0]).status().code(), StatusCode::kInternal);
}

TEST_F(ExternalWeightTest, ResolvesAgainstTheLoadedFilesFolder) {
  Graph g;
  g.name = "saved";
  GraphBuilder b(&g);
  Weight w;
  w.name = "w";
  w.external = ExternalRef{"weights.bin", 32, 0};
  TensorType t;
  t.dtype = DType::kInt32;
  t.shape = {Dim(2), Dim(2)};
  ASSERT_TRUE(b.add_weight(w, t).is_ok());
  ASSERT_TRUE(save_graph(g, dir_ + "/g.kiln").is_ok());
  // Loaded from another working folder: the weight still resolves beside the file.
  auto loaded = load_graph(dir_ + "/g.kiln");
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  auto data = read_external_weight(loaded.value(), loaded->weights[0]);
  ASSERT_TRUE(data.is_ok()) << data.status().to_string();
  EXPECT_EQ(data->byte_size(), 16u);
  EXPECT_EQ(data->data()[0], 32);
}

}  // namespace
}  // namespace kiln
