/* publish: materialise a task's output where its `publish` template says, and never
 * anything else.
 *
 * The template's {key} and {key:N} take the task's deep key; the path is relative to
 * the task's flow file (flow_load() already refused templates leaving publish_root;
 * symbolic links are checked here, where the path is known). A single-file output
 * becomes that file, anything else (or a template ending in "/") a directory; files
 * are private copies (reflinks where the file system has them) whose bytes are checked
 * against the output's digests, or hard links to the store's objects with
 * "publish_mode": "link"; never symlinks.
 *
 * sluice replaces only what it published itself (the publications table records each
 * path, its owner and a stamp of what was left there): a path it did not publish is
 * refused unless the run allows overwriting, a directory it published that now holds
 * files it did not publish is refused the same way, and a publication of another flow
 * (with other bytes) is refused with both owners named. No publication is ever the
 * flow file, the store or a .git directory, inside one, or holding one (real paths,
 * so neither ".." nor a symbolic link gets around it). Publishing the same output to
 * a path whose stamp is unchanged does nothing; a publication edited or removed since
 * is published again. Each publication is announced in <store>/publishing/ (with the
 * stamp of the tree about to be renamed into place) before the rename, so a kill -9
 * before the run commits its record leaves a path the next run recognises as its own
 * when, and only when, it holds exactly the announced stamp.
 */
#ifndef SLUICE_PUBLISH_H
#define SLUICE_PUBLISH_H

#include "workspace.h"

/* Whether every publishing task whose deep key is computed may publish where its
 * template says: inside its publish root once symbolic links are followed, never
 * onto, into or over the flow file, the store or .git, and no two of them onto one
 * path or one inside another. Checked before a run starts (a flow error). */
int publish_check(struct workspace *ws, struct err *e);
/* Publishes task t's output (checking as publish_check() does for t, again). With
 * overwrite, a path sluice did not publish (or another flow's) may be replaced.
 * *where gets the published path when something was (re)published, else NULL.
 * Returns 1 when the output could not be put in place (a refused or unwritable path,
 * a damaged object: the output itself stays stored), -1 when the database failed. */
int publish_task(struct workspace *ws, size_t t, const char *digest, bool overwrite, char **where,
                 struct err *e);
/* Whether task t's publication is in place: its path holds this output as sluice left
 * it there. Reads only. */
bool publish_in_place(struct workspace *ws, size_t t, const char *digest);

#endif
