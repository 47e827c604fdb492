// libkiln.so exports only kiln_* symbols and links no accelerator or oneDNN library: plugins
// carry those, so the core loads on any machine.
#include <cstdio>
#include <memory>

#include "abi_test_util.h"

namespace kiln_test {
namespace {

std::string run(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return "";
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe.get())) > 0) out.append(buffer, n);
  return out;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

TEST(LibraryExports, OnlyKilnSymbolsAreExported) {
  const std::string out = run(std::string("nm -D --defined-only '") + KILN_LIBRARY_PATH + "'");
  size_t kiln_symbols = 0;
  for (const std::string& line : lines(out)) {
    const std::string name = line.substr(line.rfind(' ') + 1);
    // The version script's own node (e.g. "KILN_0") is not a symbol of code.
    if (line.find(" A ") != std::string::npos) continue;
    EXPECT_EQ(name.rfind("kiln_", 0), 0u) << "unexpected export: " << line;
    kiln_symbols++;
  }
  EXPECT_GT(kiln_symbols, 50u) << out;
  for (const char* expected : {"kiln_runtime_create", "kiln_tensor_to_dlpack_versioned",
                               "kiln_model_execute", "kiln_session_load"}) {
    EXPECT_NE(out.find(expected), std::string::npos) << expected;
  }
}

TEST(LibraryExports, NoAcceleratorOrOneDnnLibraryIsNeeded) {
  const std::string out = run(std::string("readelf -d '") + KILN_LIBRARY_PATH + "'");
  ASSERT_NE(out.find("NEEDED"), std::string::npos) << out;
  for (const std::string& line : lines(out)) {
    if (line.find("NEEDED") == std::string::npos) continue;
    for (const char* banned : {"dnnl", "cuda", "cublas", "nvrtc", "hip", "rocm", "amdhip"}) {
      EXPECT_EQ(line.find(banned), std::string::npos) << line;
    }
  }
}

}  // namespace
}  // namespace kiln_test
