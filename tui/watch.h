/* watch: notices when a file a flow depends on changes (its code files, its `files`,
 * the flow file and its sub-flows), so their tasks turn stale on screen at once.
 * inotify on their directories (editors often replace a file by renaming a new one
 * over it); where inotify is unavailable, their stat data is compared every second. */
#ifndef SLUICE_WATCH_H
#define SLUICE_WATCH_H

#include <stdbool.h>

#include "strmap.h"
#include "workspace.h"

struct watch {
    int fd;               /* inotify, or -1 when polling */
    struct strmap files;  /* absolute path -> its stat signature (polling) or NULL */
    struct strmap dirs;   /* watch descriptor (as text) -> directory */
    double next_poll;
};

/* Watches the flow file, and with a workspace (NULL while the flow is broken) the
 * files its tasks depend on. */
void watch_init(struct watch *w, const char *flow_path, const struct workspace *ws);
/* The descriptor to wait on, or -1 (then call watch_changed about once a second). */
int watch_fd(const struct watch *w);
/* Drains what happened; true when a watched file changed. Never blocks. */
bool watch_changed(struct watch *w);
void watch_free(struct watch *w);

#endif
