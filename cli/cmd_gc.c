/* cmd_gc: `sluice gc` — free disk space the store no longer needs. */
#include <getopt.h>

#include "cli.h"
#include "gc.h"
#include "workspace.h"

static void report(const struct gc_report *r, bool dry_run)
{
    char freed[32], kept[32];
    fmt_size(freed, sizeof freed, r->freed);
    fmt_size(kept, sizeof kept, r->kept_bytes);
    printf("%s %s: %zu output%s, %zu object%s, %zu view%s, %zu log%s, %zu scratch "
           "entr%s; %zu expired cache entr%s\n",
           dry_run ? "would free" : "freed", freed, r->outputs, r->outputs == 1 ? "" : "s",
           r->objects, r->objects == 1 ? "" : "s", r->views, r->views == 1 ? "" : "s", r->logs,
           r->logs == 1 ? "" : "s", r->scratch, r->scratch == 1 ? "y" : "ies",
           r->expired_entries, r->expired_entries == 1 ? "y" : "ies");
    printf("%s %s in %zu object%s\n", dry_run ? "would keep" : "kept", kept, r->kept_objects,
           r->kept_objects == 1 ? "" : "s");
    const struct blobs_report *b = &r->blobs;
    if (b->copied || b->deleted)
        printf("code versions for replay: %s %zu from the repository, %s %zu no kept run uses\n",
               dry_run ? "would copy" : "copied", b->copied, dry_run ? "would delete" : "deleted",
               b->deleted);
    if (b->missing)
        printf("warning: %zu code version%s the kept runs used %s in neither the store nor "
               "the repository: those runs cannot be replayed in full\n",
               b->missing, b->missing == 1 ? "" : "s", b->missing == 1 ? "is" : "are");
}

int cmd_gc(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {{"keep-runs", required_argument, NULL, 'k'},
                                          {"max-size", required_argument, NULL, 'm'},
                                          {"dry-run", no_argument, NULL, 'n'},
                                          {NULL, 0, NULL, 0}};
    struct gc_opts o = {.keep_runs = -1};
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":n", opts, NULL)) != -1) {
        char *end;
        switch (ch) {
        case 'k':
            o.keep_runs = strtol(optarg, &end, 10);
            if (*end || o.keep_runs < 0)
                return cli_usage_error(c, "--keep-runs wants a number of runs, not \"%s\"",
                                       optarg);
            break;
        case 'm':
            if (gc_parse_size(optarg, &o.max_size) || o.max_size == 0)
                return cli_usage_error(c, "--max-size wants a size like 500M or 2G, not \"%s\"",
                                       optarg);
            break;
        case 'n':
            o.dry_run = true;
            break;
        case ':':
            return cli_usage_error(c, "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return cli_usage_error(c, "unexpected argument \"%s\"", argv[optind]);
    struct records rec;
    int code = cli_store(c, "collect", &rec);
    if (code != EXIT_OK || !rec.store)
        return code;
    struct gc_report r;
    struct err e;
    if (gc_collect(rec.store, rec.db, &o, &r, &e)) {
        cli_error(e.msg);
        code = EXIT_USAGE; /* as verify --repair, run and every command the store refuses */
    } else {
        report(&r, o.dry_run);
    }
    records_close(&rec);
    return code;
}
