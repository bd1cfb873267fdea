/* direct: a command run without a shell when the shell would only exec it. */
#include "direct.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Everything dash runs itself instead of executing a program, and its reserved words
 * (dash 0.5.12's builtins.def and parser.c): a first word among these needs dash. */
static const char *const shell_words[] = {
    ".",     ":",       "[",     "alias",   "bg",     "break",    "cd",     "chdir",
    "command", "continue", "echo", "eval",  "exec",   "exit",     "export", "false",
    "fc",    "fg",      "getopts", "hash",  "jobs",   "kill",     "local",  "printf",
    "pwd",   "read",    "readonly", "return", "set",  "shift",    "test",   "times",
    "trap",  "true",    "type",  "ulimit",  "umask",  "unalias",  "unset",  "wait",
    "if",    "then",    "else",  "elif",    "fi",     "do",       "done",   "case",
    "esac",  "while",   "until", "for",     "in",
};

static void *must(void *p)
{
    if (!p)
        abort();
    return p;
}

static bool plain_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("_./-+,:@%=", c) != NULL;
}

static bool name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

/* A value the shell would leave as it is after an unquoted expansion. */
static bool inert_value(const char *v)
{
    if (!*v)
        return false;
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (c <= ' ' || c == 0x7f || strchr("*?[\\", c))
            return false;
    }
    return true;
}

/* The value of NAME (len bytes) in env when it is set exactly once and inert, or NULL. */
static const char *lookup(const char *const *env, const char *name, size_t len)
{
    const char *found = NULL;
    for (size_t i = 0; env[i]; i++) {
        if (strncmp(env[i], name, len) != 0 || env[i][len] != '=')
            continue;
        if (found)
            return NULL;
        found = env[i] + len + 1;
    }
    return found && inert_value(found) ? found : NULL;
}

/* Every name valid for the shell (dash drops the others), and no IFS. */
static bool plain_env(const char *const *env)
{
    for (size_t i = 0; env[i]; i++) {
        const char *kv = env[i];
        if (!name_start(kv[0]) || strncmp(kv, "IFS=", 4) == 0)
            return false;
        size_t n = 1;
        while (name_char(kv[n]))
            n++;
        if (kv[n] != '=')
            return false;
    }
    return true;
}

/* One word starting at *p, expanded into a new string; NULL when the shell is needed.
 * *p is left after it. */
static char *expand_word(const char **p, const char *const *env, bool first)
{
    size_t cap = 64, n = 0;
    char *w = must(malloc(cap));
    const char *s = *p;
    while (*s && *s != ' ' && *s != '\t') {
        const char *add = s;
        size_t len = 1;
        if (*s == '$') {
            bool brace = s[1] == '{';
            const char *name = s + 1 + brace;
            size_t nl = 0;
            if (!name_start(name[0]))
                goto shell;
            while (name_char(name[nl]))
                nl++;
            if (brace && name[nl] != '}')
                goto shell;
            if (!(add = lookup(env, name, nl)))
                goto shell;
            len = strlen(add);
            s = name + nl + brace;
        } else if (plain_char(*s) && !(first && *s == '=')) {
            s++;
        } else {
            goto shell;
        }
        while (n + len + 1 > cap)
            cap *= 2;
        w = must(realloc(w, cap));
        memcpy(w + n, add, len);
        n += len;
    }
    w[n] = 0;
    *p = s;
    return w;
shell:
    free(w);
    return NULL;
}

static bool shell_word(const char *w)
{
    for (size_t i = 0; i < sizeof shell_words / sizeof *shell_words; i++)
        if (strcmp(w, shell_words[i]) == 0)
            return true;
    return false;
}

/* The first regular file named word along PATH (as dash's find_command picks it), or
 * NULL; a PATH with a relative or empty entry (or none at all) is left to the shell. */
static char *search_path(const char *word, const char *const *env)
{
    const char *path = NULL;
    for (size_t i = 0; env[i]; i++)
        if (strncmp(env[i], "PATH=", 5) == 0)
            path = env[i] + 5;
    if (!path || !*path || strchr(path, '%'))
        return NULL;
    for (const char *dir = path;;) {
        size_t len = strcspn(dir, ":");
        if (len == 0 || dir[0] != '/')
            return NULL;
        char *full = must(malloc(len + strlen(word) + 2));
        snprintf(full, len + strlen(word) + 2, "%.*s/%s", (int)len, dir, word);
        struct stat st;
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode))
            return full;
        free(full);
        if (!dir[len])
            return NULL;
        dir += len + 1;
    }
}

/* PWD as dash exports it: the inherited one when it is absolute and names cwd, else
 * cwd's physical path. NULL when neither can be had. */
static char *shell_pwd(const char *const *env, const char *cwd)
{
    const char *pwd = NULL;
    for (size_t i = 0; env[i]; i++)
        if (strncmp(env[i], "PWD=", 4) == 0)
            pwd = env[i] + 4;
    struct stat a, b;
    if (pwd && pwd[0] == '/' && stat(pwd, &a) == 0 && stat(cwd, &b) == 0 &&
        a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        return must(strdup(pwd));
    return realpath(cwd, NULL);
}

static char **env_with_pwd(const char *const *env, const char *pwd)
{
    size_t n = 0;
    while (env[n])
        n++;
    char **out = must(calloc(n + 2, sizeof *out));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(env[i], "PWD=", 4) != 0)
            out[k++] = must(strdup(env[i]));
    size_t len = strlen(pwd) + 5;
    out[k] = must(malloc(len));
    snprintf(out[k], len, "PWD=%s", pwd);
    return out;
}

static void strings_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

bool direct_prepare(const char *command, const char *const *env, const char *cwd,
                    struct direct *d)
{
    memset(d, 0, sizeof *d);
    if (!plain_env(env))
        return false;
    size_t n = 0, cap = 8;
    char **argv = must(calloc(cap, sizeof *argv));
    const char *p = command;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        char *w = expand_word(&p, env, n == 0);
        if (!w || (n == 0 && shell_word(w))) {
            free(w);
            strings_free(argv);
            return false;
        }
        if (n + 2 > cap) {
            cap *= 2;
            argv = must(realloc(argv, cap * sizeof *argv));
        }
        argv[n++] = w;
        argv[n] = NULL;
    }
    char *path = n == 0 ? NULL : strchr(argv[0], '/') ? must(strdup(argv[0]))
                                                      : search_path(argv[0], env);
    char *pwd = path ? shell_pwd(env, cwd) : NULL;
    if (!pwd) {
        free(path);
        strings_free(argv);
        return false;
    }
    d->path = path;
    d->argv = argv;
    d->env = env_with_pwd(env, pwd);
    free(pwd);
    return true;
}

void direct_free(struct direct *d)
{
    free(d->path);
    strings_free(d->argv);
    strings_free(d->env);
    memset(d, 0, sizeof *d);
}

int direct_signal_status(int sig, bool core, char *buf, size_t size)
{
    buf[0] = 0;
    if (sig != SIGINT && sig != SIGPIPE)
        snprintf(buf, size, "%s%s", strsignal(sig), core ? " (core dumped)" : "");
    return 128 + sig;
}
