/* options: reading an executor's options object, for the plugins.
 *
 * A plugin describes the options it takes (name and kind) and options_read() checks a
 * JSON object against that: unknown names, wrong types and malformed sizes or
 * durations become one message like `"mem" must be a size like "500M" or "8G", not
 * "lots"`. Sizes and durations are read the way Slurm reads them, so a flow's "mem"
 * and "time" mean the same on every executor. Values are owned by the opt_value
 * array until options_free(). No engine code here: plugins link it themselves.
 */
#ifndef SLUICE_OPTIONS_H
#define SLUICE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum opt_kind {
    OPT_COUNT,    /* a whole number >= 1 */
    OPT_SIZE,     /* "500M", "8G", "1T", or a number of megabytes */
    OPT_DURATION, /* "90s" "15m" "2h" "1d", or Slurm's "MM", "MM:SS", "HH:MM:SS", "D-HH[:MM[:SS]]" */
    OPT_STRING,   /* a non-empty string without spaces */
    OPT_STRINGS,  /* an array of non-empty strings */
};

struct opt_spec {
    const char *name;
    enum opt_kind kind;
};

struct opt_value {
    bool set;
    long long count;  /* OPT_COUNT */
    uint64_t bytes;   /* OPT_SIZE */
    double seconds;   /* OPT_DURATION */
    char *text;       /* OPT_SIZE, OPT_DURATION, OPT_STRING: as written */
    char **strings;   /* OPT_STRINGS */
    size_t n_strings;
};

/* Reads json (an object, or NULL for none) into values[i] for spec[i]. Returns 0, or
 * -1 with a message in err. */
int options_read(const char *json, const struct opt_spec *spec, size_t n, struct opt_value *values,
                 char *err, size_t errlen);
void options_free(struct opt_value *values, size_t n);

int options_size(const char *text, uint64_t *bytes);
int options_duration(const char *text, double *seconds);

#endif
