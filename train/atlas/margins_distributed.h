#pragma once
// `mpirun -np N zoograd margins`: the atlas's (panel, seed) jobs spread over the ranks
// (train/distributed.h). Each rank trains its share; rank 0 gathers the results, serialized with
// everything the report needs, and writes the report as one process would.
#include <cstddef>
#include <exception>
#include <optional>
#include <vector>

#include "zoograd/train/atlas/margins.h"

namespace zg {

// The work items (of 0 … work - 1) this rank trains: w with w mod N = rank; all of them in one process.
std::vector<std::size_t> rank_items(std::size_t work);

// Brings every rank's results and errors to rank 0, into the slots of their work items. The
// results keep what the report uses: measures, curves, snapshots, and a head rebuilt from its
// weights for `classify`. Does nothing in one process.
void gather_panels(std::vector<std::optional<PanelResult>>& results, std::vector<std::exception_ptr>& errors);

}  // namespace zg
