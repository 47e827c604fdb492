// The C ABI's graph handles: kiln_graph owns a kiln::Graph; kiln_value is a stable handle to one
// of its values. Everything a getter hands out (names, shapes, dim expressions) is stored here,
// in deques that never move their elements, so pointers live as long as the graph.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/graph_builder.h"
#include "kiln/kiln.h"

struct kiln_value {
  kiln_graph* owner = nullptr;
  kiln::ValueId id = -1;
  // Spec storage, filled when the handle is made; a value's type never changes afterwards.
  std::string name;
  std::string device;
  std::vector<int64_t> shape;  // -1 where symbolic
  std::vector<std::string> expr_storage;
  std::vector<const char*> dim_exprs;  // nullptr where static
};

struct kiln_graph {
  explicit kiln_graph(kiln::Graph g) : graph(std::move(g)), builder(&graph) { sync_handles(); }
  kiln_graph(const kiln_graph&) = delete;
  kiln_graph& operator=(const kiln_graph&) = delete;

  // Makes handles for values, nodes and weights added since the last call.
  void sync_handles();

  struct NodeStrings {
    std::string op, name, device;
  };
  struct WeightStrings {
    std::string name, external_path;
  };

  kiln::Graph graph;
  kiln::GraphBuilder builder;     // declared after `graph`, which it points to
  // A subgraph under construction: the graph whose subgraph list it calls into and joins.
  kiln_graph* main = nullptr;
  std::deque<kiln_value> values;  // index = ValueId
  std::deque<NodeStrings> nodes;  // index = node index
  std::deque<WeightStrings> weights;
  // Every metadata value ever set, so a pointer from kiln_graph_get_metadata survives a later
  // kiln_graph_set_metadata of the same key.
  std::deque<std::string> metadata_strings;
  std::map<std::string, const char*> metadata_view;
};

namespace kiln {

// The C++ graph behind a handle (the runtime's session load reads it).
inline const Graph& graph_of(const kiln_graph* g) { return g->graph; }

}  // namespace kiln
