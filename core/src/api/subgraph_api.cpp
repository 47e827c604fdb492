// The C ABI for subgraphs: a main graph keeps one flat list of named subgraphs, which `call`,
// `cond` and `while_loop` nodes name. A subgraph is built as a graph of its own (so it can call
// the subgraphs already listed) and then copied into the list.
#include <set>

#include "api/c_status.h"
#include "api/graph_handles.h"

using kiln::Status;

extern "C" {

kiln_status* kiln_graph_create_subgraph(kiln_graph* graph, const char* name,
                                        kiln_graph** out_subgraph) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(graph);
  KILN_CHECK_ARG(out_subgraph);
  kiln_graph* main = graph->main != nullptr ? graph->main : graph;
  kiln::Graph g;
  g.name = name ? name : "";
  auto* sub = new kiln_graph(std::move(g));
  sub->main = main;
  sub->builder.set_callable_subgraphs(&main->graph.subgraphs);
  *out_subgraph = sub;
  return nullptr;
  KILN_API_END
}

kiln_status* kiln_graph_add_subgraph(kiln_graph* graph, const kiln_graph* subgraph) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(graph);
  KILN_CHECK_ARG(subgraph);
  kiln_graph* main = graph->main != nullptr ? graph->main : graph;
  std::vector<kiln::Graph>& list = main->graph.subgraphs;
  auto fail = [](const std::string& message) {
    return kiln::make_c_status(kiln::StatusCode::kInvalidArgument,
                               "kiln_graph_add_subgraph: " + message);
  };
  const kiln::Graph& sub = subgraph->graph;
  if (subgraph == main || subgraph == graph) return fail("a graph cannot be its own subgraph");
  if (subgraph->main != nullptr && subgraph->main != main) {
    return fail("subgraph '" + sub.name + "' was created for another graph");
  }
  if (sub.name.empty()) return fail("the subgraph has no name");
  // A graph built on its own brings the subgraphs it calls; they join the list before it.
  std::vector<const kiln::Graph*> adding;
  for (const kiln::Graph& nested : sub.subgraphs) adding.push_back(&nested);
  adding.push_back(&sub);
  std::set<std::string> names;
  for (const kiln::Graph& g : list) names.insert(g.name);
  for (const kiln::Graph* g : adding) {
    if (!names.insert(g->name).second) {
      return kiln::make_c_status(kiln::StatusCode::kAlreadyExists,
                                 "kiln_graph_add_subgraph: graph '" + main->graph.name +
                                     "' already has a subgraph named '" + g->name + "'");
    }
  }
  list.reserve(list.size() + adding.size());
  for (const kiln::Graph* g : adding) {
    list.push_back(*g);
    list.back().subgraphs.clear();
  }
  return nullptr;
  KILN_API_END
}

size_t kiln_graph_get_subgraph_count(const kiln_graph* graph) {
  if (graph == nullptr) return 0;
  const kiln_graph* main = graph->main != nullptr ? graph->main : graph;
  return main->graph.subgraphs.size();
}

}  // extern "C"
