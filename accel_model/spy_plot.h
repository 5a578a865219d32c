#pragma once
// Spy plot: a PNG picture of the adjacency matrix with rows and columns in island order --
// islands one after another (each in BFS order), hubs last -- so islands show as small blocks
// on the diagonal and hubs as the bands at the right and bottom, behind a red rule.
#include <cstdint>
#include <string>
#include <vector>

#include "accel_model/islandizer.h"
#include "datasets/graph.h"

namespace halo {

// position[v]: node v's row and column in island order.
std::vector<int32_t> island_order(const Islands& islands);

// Writes the plot to `path`, at most `max_pixels` a side: a pixel stands for a square of
// matrix cells and is darker the more entries it holds (log scale). Throws Error if the file
// cannot be written.
void write_spy_plot(const Graph& g, const Islands& islands, const std::string& path, int32_t max_pixels = 1024);

}  // namespace halo
