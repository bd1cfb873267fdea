/* cmd_tui: `sluice tui` — the terminal UI (what `sluice` alone opens). */
#include <getopt.h>
#include <langinfo.h>
#include <unistd.h>

#include "app.h"
#include "cli.h"

int cmd_tui(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {{"ascii", no_argument, NULL, 'a'},
                                          {"mouse", no_argument, NULL, 'm'},
                                          {"script", required_argument, NULL, 's'},
                                          {NULL, 0, NULL, 0}};
    const char *cs = nl_langinfo(CODESET);
    struct tui_opts o = {.flow_path = c->flow,
                         .ascii = !(cs && strcmp(cs, "UTF-8") == 0),
                         .signalled = c->cancel};
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (ch == 'a')
            o.ascii = true;
        else if (ch == 'm')
            o.mouse = true;
        else if (ch == 's')
            o.script = optarg;
        else if (ch == ':')
            return cli_usage_error(c, "%s needs a value", argv[optind - 1]);
        else
            return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
    }
    if (argc - optind > 1)
        return cli_usage_error(c, "one flow file at most");
    if (argc - optind == 1)
        o.flow_path = argv[optind];
    if (!o.script && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
        fprintf(stderr, "sluice tui: needs a terminal (try `sluice status` or `sluice dag`)\n");
        return EXIT_USAGE;
    }
    return tui_main(&o);
}
