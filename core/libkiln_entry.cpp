// libkiln.so is linked from the kiln_internal archive (whole-archive, so every exported kiln_*
// function is kept). CMake requires a shared library target to name at least one source of its
// own; this translation unit is that source and deliberately defines nothing.
