/* pathset: the files a path pattern names, below a directory.
 *
 * A pattern is a glob (`*`, `?`, `[...]`; no `**`), a directory (every regular file
 * below it, `.git` and `.sluice` left out, symlinks followed, dangling ones skipped)
 * or a file. Paths found are relative to the directory given (unless the pattern is
 * absolute), in the order found: callers sort. Touches nothing, never fails: a
 * pattern that matches nothing adds nothing, and the caller says so.
 */
#ifndef SLUICE_PATHSET_H
#define SLUICE_PATHSET_H

#include <stdbool.h>

#include "util.h"

bool pathset_is_glob(const char *pattern);
/* Adds every regular file below dir/rel as "rel/...". A path that cannot be read for
 * another reason than not existing is added, so that reading it reports the error. */
void pathset_dir_files(const char *dir, const char *rel, struct strv *out);
/* Adds the regular files matching the glob, relative to dir unless it is absolute. */
void pathset_glob(const char *dir, const char *pattern, struct strv *out);

#endif
