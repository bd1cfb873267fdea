/* gitlib: the libgit2 functions sluice calls, loaded by the first call.
 *
 * sluice is not linked with libgit2: it brings 13 libraries (TLS, SSH, Kerberos) whose
 * loading cost every process ~0.8 ms, and most never call it (a code file's blob id
 * usually comes from the store's stat cache). gitlib.c defines each function sluice
 * uses with libgit2's own prototype (from <git2.h>); the first call dlopens libgit2
 * (its soname fixed at build time) and resolves them all, once per process. When it
 * cannot be loaded, every call fails as libgit2 would (a negative code, NULL, or
 * nothing) and git_error_last() says why. Only git_libgit2_opts() options that take one
 * int are passed on. Include this header where <git2.h> would be.
 */
#ifndef SLUICE_GITLIB_H
#define SLUICE_GITLIB_H

#include <git2.h>

#endif
