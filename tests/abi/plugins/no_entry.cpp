// A shared object that is not a kiln plugin: it exports a function, but not kiln_plugin_get_api.
extern "C" __attribute__((visibility("default"))) int not_the_kiln_entry(void) { return 1; }
