// .kiln files: Graph <-> proto/kiln/graph.proto, with validation of every field on load.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "ir/graph.h"

namespace kiln {

// Version written into new files; files with a newer version are rejected by name.
inline constexpr uint32_t kFormatVersion = 1;
// Files larger than this are refused before parsing (protobuf's own ceiling is 2 GiB).
inline constexpr uint64_t kMaxGraphFileBytes = 2000ull * 1024 * 1024;

StatusOr<std::string> serialize_graph(const Graph& graph);
Status save_graph(const Graph& graph, const std::string& path);

// `origin` names the source in messages (a path, or "<buffer>"); `base_dir` is where external
// weight paths resolve. Validates everything: unknown ops, dangling values, type mismatches
// (re-running inference), weight sizes and offsets, truncated or oversized data.
StatusOr<Graph> parse_graph(const void* data, size_t size, const std::string& origin,
                            const std::string& base_dir);
StatusOr<Graph> load_graph(const std::string& path);

// Reads an external weight's bytes, refusing absolute paths, "..", symlinks out of base_dir,
// offsets past the end of the file and lengths that disagree with the weight's type.
StatusOr<HostTensor> read_external_weight(const Graph& graph, const Weight& weight);

}  // namespace kiln
