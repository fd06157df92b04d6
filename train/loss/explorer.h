#pragma once
// `zoograd loss explore`: the interactive loss explorer, one self-contained HTML page (its
// scripts and zoograd's core/ and losses/ compiled to WebAssembly inlined) that works from
// file:// with no server. The page and its scripts are train/explorer/.
#include <string>

namespace zg {

// Writes dir/index.html (dir created if missing) and returns its path. Throws std::runtime_error
// when this program was built without emscripten (the module is missing), saying how to get it.
std::string write_loss_explorer(const std::string& dir);

// Whether this program holds the explorer's WebAssembly module.
bool has_explorer_module();

}  // namespace zg
