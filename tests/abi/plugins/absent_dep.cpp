// A library a test plugin links against; its SONAME names a file that never exists, so loading
// the plugin fails with a missing dependency (tests/abi/CMakeLists.txt).
extern "C" __attribute__((visibility("default"))) int kiln_test_dep_value(void) { return 42; }
