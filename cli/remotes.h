/* remotes: which shared cache a command uses, and what it says about it at the end.
 *
 * The remote is `--remote URL|off`, else $SLUICE_REMOTE (URL or "off"), else sluice.conf's
 * `remote` (config.h); read-only with --remote-read-only, $SLUICE_REMOTE_READ_ONLY=1 or
 * the file's `remote-read-only`; $SLUICE_REMOTE_TIMEOUT (or `remote-timeout`) seconds
 * per stalled request, 10 by default; $SLUICE_REMOTE_TOKEN a bearer token.
 */
#ifndef SLUICE_CLI_REMOTES_H
#define SLUICE_CLI_REMOTES_H

#include <signal.h>
#include <stdbool.h>

#include "remote.h"

/* *out: the remote, or NULL when none is configured. EXIT_OK, else (after a message
 * naming the bad setting) EXIT_USAGE. */
int remotes_open(const char *flow_path, const char *arg, bool read_only,
                 const volatile sig_atomic_t *cancel, struct remote **out);
/* Waits (bounded) for the uploads, prints one line of what the remote did (nothing
 * when it did nothing) and its warnings, and closes it. NULL: nothing. */
void remotes_close(struct remote *r);

#endif
