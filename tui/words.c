/* words: shell-like splitting of a `:` line. */
#include "words.h"

#include <string.h>

int words_split(const char *line, struct strv *out, struct err *e)
{
    const char *p = line;
    for (;;) {
        p += strspn(p, " \t");
        if (!*p)
            return 0;
        struct sb w = {0};
        sb_adds(&w, "");
        while (*p && *p != ' ' && *p != '\t') {
            char q = *p;
            if (q == '\'' || q == '"') {
                const char *open = p++;
                while (*p && *p != q) {
                    if (q == '"' && *p == '\\' && (p[1] == '"' || p[1] == '\\'))
                        p++;
                    sb_addc(&w, *p++);
                }
                if (!*p) {
                    sb_free(&w);
                    return err_set(e, "unclosed %c in %s (close it; a quote inside a "
                                      "value goes in the other quotes)",
                                   q, open);
                }
                p++;
            } else if (q == '\\' && p[1]) {
                sb_addc(&w, p[1]);
                p += 2;
            } else {
                sb_addc(&w, *p++);
            }
        }
        strv_push(out, sb_take(&w));
    }
}
