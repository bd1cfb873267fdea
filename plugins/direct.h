/* direct: running a task's command without a shell, when /bin/sh would do nothing
 * but find the program and exec it (as make runs a recipe of plain words itself).
 *
 * A command qualifies only when it is one simple command of plain words: letters,
 * digits and `_./-+,:@%=` (no `=` in the first word), and $NAME or ${NAME} whose value
 * in the job's environment is set once, non-empty and free of blanks, `*?[\` and
 * control characters, so the shell's field splitting and globbing could not change
 * it; its first word no reserved word or dash builtin; every environment name a valid
 * shell name and no IFS. Anything else (quotes, pipes, `;`, redirections, `~`, `#`,
 * newlines...) goes to /bin/sh -c unchanged. The environment the program gets is the
 * job's with PWD as dash sets it. No engine code here: the local plugin links it.
 */
#ifndef SLUICE_DIRECT_H
#define SLUICE_DIRECT_H

#include <stdbool.h>
#include <stddef.h>

struct direct {
    char *path;  /* the program to execve: argv[0] itself when it has a '/', else found in PATH */
    char **argv; /* NULL-terminated; argv[0] as written (expanded) */
    char **env;  /* NULL-terminated "K=V": the job's, PWD as the shell would export it */
};

/* Fills d and returns true when command can be run without the shell from directory
 * cwd with environment env; false (d untouched but zeroed) when it needs the shell.
 * direct_free() releases what it filled. */
bool direct_prepare(const char *command, const char *const *env, const char *cwd,
                    struct direct *d);
void direct_free(struct direct *d);

/* How dash reports a command that a signal killed (and so how a direct job is
 * reported, for the same log and exit code): the line it prints ("Segmentation fault",
 * "Killed (core dumped)"; empty for SIGINT and SIGPIPE) into buf, and the exit status
 * it exits with, 128 + sig. */
int direct_signal_status(int sig, bool core, char *buf, size_t size);

#endif
