/* cmd_verify: `sluice verify` — re-hash the store, report (and repair) what is broken. */
#include <getopt.h>

#include "cli.h"
#include "verify.h"
#include "workspace.h"

static void report(const struct verify_report *r, bool repair)
{
    char bytes[32];
    fmt_size(bytes, sizeof bytes, r->bytes);
    printf("checked %zu object%s and %zu log%s (%s), %zu output%s, %zu cache entr%s: ",
           r->objects, r->objects == 1 ? "" : "s", r->logs, r->logs == 1 ? "" : "s", bytes,
           r->outputs, r->outputs == 1 ? "" : "s", r->entries, r->entries == 1 ? "y" : "ies");
    if (r->problems.n == 0) {
        printf("all intact\n");
        return;
    }
    printf("%zu problem%s\n", (size_t)r->problems.n, r->problems.n == 1 ? "" : "s");
    for (size_t i = 0; i < r->problems.n; i++)
        printf("  %s\n", r->problems.v[i]);
    for (size_t i = 0; i < r->repairs.n; i++)
        printf("repaired: %s\n", r->repairs.v[i]);
    if (!repair)
        printf("run `sluice verify --repair` to repair it: views are rebuilt from their "
               "objects, and what is lost is dropped, so the tasks that made it run again\n");
    else if (r->unrepaired)
        printf("%zu problem%s could not be repaired\n", r->unrepaired,
               r->unrepaired == 1 ? "" : "s");
}

int cmd_verify(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {{"repair", no_argument, NULL, 'r'},
                                          {NULL, 0, NULL, 0}};
    bool repair = false;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch == 'r')
            repair = true;
        else
            return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
    }
    if (optind != argc)
        return cli_usage_error(c, "unexpected argument \"%s\"", argv[optind]);
    struct records rec;
    int code = cli_store(c, "verify", &rec);
    if (code != EXIT_OK || !rec.store)
        return code;
    struct verify_report r;
    struct err e;
    if (verify_store(rec.store, rec.db, repair, &r, &e)) {
        cli_error(e.msg);
        code = EXIT_USAGE;
    } else {
        report(&r, repair);
        if (repair ? r.unrepaired > 0 : r.problems.n > 0)
            code = EXIT_TASK_FAILED;
        verify_report_free(&r);
    }
    records_close(&rec);
    return code;
}
