/* template: `{params.NAME}`, `{task}`, `{flow}`, `{key}` and `{key:N}` substitution.
 *
 * Only these exact forms are placeholders; every other brace (shell `${X}`, awk
 * `{print $1}`) is copied through untouched, except in strict mode (publish paths),
 * where any other brace is an error. Referencing an unknown parameter, `{key}`
 * where no key exists yet, or `{key:N}` outside 1..64 is an error naming the
 * placeholder.
 */
#ifndef SLUICE_TEMPLATE_H
#define SLUICE_TEMPLATE_H

#include "util.h"

struct template_vars {
    const char *const *param_names;  /* n_params names ... */
    const char *const *param_values; /* ... and their substitution text */
    size_t n_params;
    const char *task; /* may be NULL: then {task} is an error */
    const char *flow;
    const char *key; /* NULL outside `publish` */
    bool keep_key;   /* copy {key} and {key:N} through untouched (key not known yet) */
    bool strict;     /* every "{" opens a placeholder (publish: a path, not shell) */
};

/* Expands tpl into a new string (*out, caller frees). On error fills e with a message
 * like "unknown parameter {params.lrr} (did you mean {params.lr}?)". */
int template_expand(const char *tpl, const struct template_vars *v, char **out, struct err *e);

/* Appends (without duplicates) the parameter names tpl references to names. */
void template_params(const char *tpl, struct strv *names);

#endif
