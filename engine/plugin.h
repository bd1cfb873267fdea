/* plugin: finding and loading executor plugins by name.
 *
 * An executor named NAME is the shared object NAME.so in the first of these
 * directories that has one: each of $SLUICE_PLUGIN_PATH (colon-separated), plugins/
 * next to the running binary, and the install's plugin directory (SLUICE_PLUGIN_DIR,
 * fixed at build time). It must export `sluice_executor` (executor.h) with this
 * sluice's EXECUTOR_ABI and its own name. Errors name the path and the versions.
 * A loaded plugin stays mapped until plugin_close(); nothing here runs a task.
 */
#ifndef SLUICE_PLUGIN_H
#define SLUICE_PLUGIN_H

#include "executor.h"
#include "util.h"

struct plugin {
    const struct executor_ops *ops;
    char *path; /* the shared object it came from */
    void *handle;
};

/* The directories searched, in order (appended to dirs). */
void plugin_dirs(struct strv *dirs);
/* Loads executor `name` from the first of dirs holding NAME.so. */
int plugin_load(const char *name, const struct strv *dirs, struct plugin *out, struct err *e);
void plugin_close(struct plugin *p);

#endif
