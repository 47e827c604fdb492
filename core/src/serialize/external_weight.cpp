// Reading external weights: the path must stay inside the graph's folder after every symlink is
// resolved (the lesson of ONNX's external-data CVEs), and the byte range must lie in the file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "ir/type_checks.h"
#include "serialize/serialize.h"

namespace fs = std::filesystem;

namespace kiln {
namespace {

// True when `path` is `folder` or lies below it; both are canonical (absolute, no symlinks).
bool is_inside(const fs::path& path, const fs::path& folder) {
  auto p = path.begin();
  for (auto f = folder.begin(); f != folder.end(); ++f, ++p) {
    if (f->empty()) continue;  // a trailing separator
    if (p == path.end() || *p != *f) return false;
  }
  return true;
}

}  // namespace

StatusOr<HostTensor> read_external_weight(const Graph& graph, const Weight& weight) {
  const std::string what = "weight '" + weight.name + "'";
  if (!weight.external) return invalid_argument(what + " has no external source");
  const ExternalRef& ref = *weight.external;
  if (weight.value < 0 || static_cast<size_t>(weight.value) >= graph.values.size()) {
    return internal_error(what + " refers to a value id that does not exist");
  }
  const TensorType& type = graph.values[static_cast<size_t>(weight.value)].type;
  KILN_ASSIGN_OR_RETURN(uint64_t bytes, static_byte_size(type, what));
  KILN_RETURN_IF_ERROR(check_external_path(ref.path, what));
  if (ref.length != bytes) {
    return invalid_argument(what + " has an external length of " + std::to_string(ref.length) +
                            " bytes but its type " + type.to_string() + " needs " +
                            std::to_string(bytes));
  }

  std::error_code ec;
  const fs::path base = graph.base_dir.empty() ? fs::current_path(ec) : fs::path(graph.base_dir);
  const fs::path folder = ec ? fs::path() : fs::canonical(base, ec);
  if (ec) {
    return not_found(what + ": the graph's folder '" + base.string() +
                     "' cannot be resolved: " + ec.message());
  }
  const fs::path target = fs::canonical(folder / ref.path, ec);
  if (ec) {
    return not_found(what + ": external file '" + ref.path + "' cannot be opened in '" +
                     folder.string() + "': " + ec.message());
  }
  if (!is_inside(target, folder)) {
    return permission_denied(what + ": external path '" + ref.path + "' resolves to '" +
                             target.string() + "', outside the graph's folder '" + folder.string() +
                             "'");
  }
  // The canonical path has no symlinks left; O_NOFOLLOW refuses one swapped in since.
  const int fd = ::open(target.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    return not_found(what + ": cannot open '" + target.string() + "': " + std::strerror(errno));
  }
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return invalid_argument(what + ": '" + target.string() + "' is not a regular file");
  }
  const auto file_size = static_cast<uint64_t>(st.st_size);
  if (ref.offset > file_size || ref.length > file_size - ref.offset) {
    return out_of_range(what + ": bytes [" + std::to_string(ref.offset) + ", " +
                        std::to_string(ref.offset) + " + " + std::to_string(ref.length) +
                        ") lie past the end of '" + ref.path + "' (" + std::to_string(file_size) +
                        " bytes)");
  }
  // Allocated only now: the length is bounded by the file's real size.
  auto data = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(ref.length));
  uint64_t done = 0;
  while (done < ref.length) {
    const ssize_t n = ::pread(fd, data->data() + done, static_cast<size_t>(ref.length - done),
                              static_cast<off_t>(ref.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return data_loss(what + ": cannot read '" + ref.path + "': " +
                       (n == 0 ? std::string("file shrank while reading") : std::strerror(errno)));
    }
    done += static_cast<uint64_t>(n);
  }
  HostTensor out;
  out.dtype = type.dtype;
  for (const Dim& d : type.shape) out.shape.push_back(d.value());
  out.bytes = std::move(data);
  return out;
}

}  // namespace kiln
