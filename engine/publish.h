/* publish: materialise a task's output where its `publish` template says.
 *
 * The template's {key} and {key:N} take the task's deep key; the path is relative to
 * the task's flow file (flow_load() already refused templates leaving publish_root;
 * symbolic links are checked here, where the path is known). A
 * single-file output becomes that file, anything else (or a template ending in "/")
 * a directory; files are hard links into the store where possible, copies elsewhere,
 * never symlinks. Publishing the same output to the same path again does nothing.
 */
#ifndef SLUICE_PUBLISH_H
#define SLUICE_PUBLISH_H

#include "workspace.h"

/* Whether task t (its deep key computed) may publish where its template says: a
 * symbolic link on the way must not lead out of its publish root. */
int publish_check(struct workspace *ws, size_t t, struct err *e);
/* Publishes (checking as publish_check() does, again). *where gets the published
 * path when something was (re)published, else NULL. Returns 1 when the output could
 * not be put in place (a refused or unwritable path: the output itself is fine), -1
 * when the database failed. */
int publish_task(struct workspace *ws, size_t t, const char *digest, char **where,
                 struct err *e);

#endif
