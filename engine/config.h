/* config: the project's settings file, `sluice.conf` next to the flow file (optional).
 *
 *   # a comment
 *   store = ../cache          where the store lives (relative to this file's directory)
 *   remote = http://host:8080/team   a shared cache (remote.h); "off": none
 *   remote-read-only = yes    only read from the remote (yes/no)
 *   remote-timeout = 10       seconds a request may make no progress
 *   s3-endpoint = http://127.0.0.1:9000   an s3:// remote's server (default: AWS's)
 *   s3-region = eu-west-1     its region (default us-east-1)
 *
 * One `key = value` per line. An unknown key, a bad value, or credentials in the remote's
 * URL (they belong in ~/.netrc or the environment, never in a checked-in file) are
 * errors naming the file and line. The environment and the command line override it.
 */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include "util.h"

struct config {
    char *path;                    /* the file (absolute), whether or not it exists */
    char *store;                   /* absolute, or NULL */
    char *remote;                  /* or NULL */
    int read_only;                 /* -1 unset, 0, 1 */
    double timeout;                /* 0 unset */
    char *s3_endpoint, *s3_region; /* or NULL */
};

/* Reads the config of the flow file at flow_path; a missing file is an empty config. */
int config_load(const char *flow_path, struct config *out, struct err *e);
void config_free(struct config *c);

#endif
