// Classification of dlopen failures, and the ELF RUNPATH reader checked against readelf.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "runtime/shared_object.h"

namespace kiln {
namespace {

TEST(DlopenFailure, NamesWhatIsWrong) {
  const std::string p = "/plugins/libx.so";
  auto f = describe_dlopen_failure(p, p + ": invalid ELF header");
  EXPECT_EQ(f.code, StatusCode::kInvalidArgument);
  EXPECT_EQ(f.reason, "not a shared object (invalid ELF header)");
  EXPECT_EQ(describe_dlopen_failure(p, p + ": file too short").reason,
            "not a shared object (file too short)");
  f = describe_dlopen_failure(p,
                              "libfoo.so.1: cannot open shared object file: No such file or "
                              "directory");
  EXPECT_EQ(f.code, StatusCode::kNotFound);
  EXPECT_EQ(f.reason.rfind("it needs libfoo.so.1, which was not found in LD_LIBRARY_PATH, the "
                           "plugin's RUNPATH or the system library folders",
                           0),
            0u)
      << f.reason;
  f = describe_dlopen_failure(p, p + ": undefined symbol: _ZN3foo3barEv");
  EXPECT_EQ(f.code, StatusCode::kFailedPrecondition);
  EXPECT_NE(f.reason.find("symbol '_ZN3foo3barEv' is undefined"), std::string::npos);
  f = describe_dlopen_failure(
      p, "/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.99' not found (required by " + p + ")");
  EXPECT_NE(f.reason.find("it needs a newer /lib/x86_64-linux-gnu/libc.so.6"), std::string::npos);
  f = describe_dlopen_failure(p, p + ": wrong ELF class: ELFCLASS32");
  EXPECT_NE(f.reason.find("another kind of machine"), std::string::npos);
  f = describe_dlopen_failure(p, "something new and strange");
  EXPECT_EQ(f.reason, "dlopen failed: something new and strange");
}

std::string run(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  std::string out;
  char buffer[4096];
  size_t n;
  while (pipe && (n = fread(buffer, 1, sizeof buffer, pipe.get())) > 0) out.append(buffer, n);
  return out;
}

// readelf's view: the text in brackets after "Library runpath:" or "Library rpath:".
std::string readelf_runpath(const std::string& path) {
  const std::string out = run("readelf -d '" + path + "' 2>/dev/null");
  for (const char* key : {"Library runpath: [", "Library rpath: ["}) {
    const size_t at = out.find(key);
    if (at == std::string::npos) continue;
    const size_t start = at + std::string(key).size();
    return out.substr(start, out.find(']', start) - start);
  }
  return "";
}

TEST(ElfRunpath, AgreesWithReadelf) {
  std::vector<std::string> files = {std::filesystem::read_symlink("/proc/self/exe").string()};
  if (const char* build = std::getenv("KILN_TEST_BUILD_DIR")) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(std::string(build) + "/bin", ec)) {
      files.push_back(e.path().string());
    }
  }
  size_t with_runpath = 0;
  for (const std::string& f : files) {
    EXPECT_EQ(read_elf_runpath(f), readelf_runpath(f)) << f;
    with_runpath += !readelf_runpath(f).empty();
  }
  if (with_runpath == 0) GTEST_SKIP() << "no file with a RUNPATH to compare";
}

TEST(ElfRunpath, IsEmptyForNonElfOrMissingFiles) {
  const auto path = std::filesystem::temp_directory_path() / "kiln_not_elf.so";
  std::ofstream(path) << "\x7f"
                         "ELF but not really";
  EXPECT_EQ(read_elf_runpath(path.string()), "");
  EXPECT_EQ(read_elf_runpath("/nonexistent/lib.so"), "");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace kiln
