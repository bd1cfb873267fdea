/* execdir: where a task finds its $OUT and $IN_x, by paths that do not depend on
 * where the project is cloned or where its store lives.
 *
 * A task run locally gets EXECDIR_ROOT/<deep key:32>/ with `out` (a symbolic link to
 * its scratch $OUT) and `in/<upstream>` (links to the upstreams' views): absolute
 * paths (a task may cd) that are the same in every clone, with every store, on every
 * machine. The directory holds its owner's pid; one whose process is alive (the same
 * key running for another project, or another user) is left alone, and the task then
 * gets the store's own absolute paths, as it does when the directory cannot be made. */
#ifndef SLUICE_EXECDIR_H
#define SLUICE_EXECDIR_H

#include <stdbool.h>

#define EXECDIR_ROOT "/tmp/sluice-exec"

struct execdir {
    char *dir; /* the exec directory; NULL when the store's paths are used */
};

/* Makes (afresh) the exec directory of deep key `deep`. Returns false (and leaves x
 * empty) when it cannot. */
bool execdir_make(struct execdir *x, const char *deep);
/* The path the task sees for `what` ("out", "in/NAME") linked to target: in the exec
 * directory when the link could be made there, else target itself. Caller frees. */
char *execdir_link(struct execdir *x, const char *what, const char *target);
/* Removes the exec directory of deep key `deep` if this process made it. */
void execdir_remove(const char *deep);
void execdir_free(struct execdir *x);

#endif
