/* share: `sluice push`, handing a cache tier (a remote) what the local cache holds.
 *
 * share_push() offers the tier the deep entry of each target and of every task upstream
 * of it whose entry is valid here (not expired) and whose bytes are in the store; a
 * volatile task is never offered, nor an ephemeral output (its bytes are gone). It only
 * reads the database and the store; the tier uploads in the background (remote.h). The
 * pull side is a run with run_opts.pull (runner.h).
 */
#ifndef SLUICE_SHARE_H
#define SLUICE_SHARE_H

#include "cache.h"
#include "workspace.h"

/* *offered: how many entries were handed to the tier. */
int share_push(struct workspace *ws, const struct cache_tier *tier, const size_t *targets,
               size_t n_targets, size_t *offered, struct err *e);

#endif
