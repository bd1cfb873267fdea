/* proc: a helper command run in the background with its output captured.
 *
 * The Slurm executor talks to Slurm through its commands (sbatch, squeue, scontrol,
 * scancel) and must never block the engine's loop on them: proc_start() spawns one
 * (found in PATH, stdin from /dev/null, stdout and stderr into one pipe, in its own
 * process group so a Ctrl-C at the terminal does not kill it half-way), proc_step()
 * reads what has arrived and says when it has ended, proc_fd() is what to poll().
 * The captured text and the wait status belong to the struct until proc_free().
 */
#ifndef SLUICE_PROC_H
#define SLUICE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct proc {
    pid_t pid; /* 0: none */
    int fd;    /* read end, -1 once at end of file */
    char *out; /* captured stdout and stderr, NUL-terminated */
    size_t len, cap;
    int status; /* wait status, once ended */
    bool ended;
};

/* env NULL: this process's environment. 0, or -1 with a message in err. */
int proc_start(struct proc *p, char *const argv[], char *const env[], char *err, size_t errlen);
/* Reads whatever is available without blocking; true once the process has ended and
 * all its output is in. */
bool proc_step(struct proc *p);
/* Waits for the end (blocking). */
void proc_finish(struct proc *p);
/* The exit code, or -1 when it was killed by a signal. */
int proc_exit_code(const struct proc *p);
/* The last non-empty line of the output ("" if none), into buf. */
void proc_last_line(const struct proc *p, char *buf, size_t n);
/* Kills it (if still going), reaps it and frees the buffer. */
void proc_free(struct proc *p);

#endif
