/* words: a `:` line's words, quoted as a shell quotes them (a subset): blanks separate
 * words; '...' keeps everything inside as it is; "..." too, except that \" and \\ stand
 * for " and \; outside quotes a backslash keeps the next character as it is. So
 * `-p name="a value with spaces"` and `-p k='x y'` are two words each. No variables,
 * globs or other expansions. */
#ifndef SLUICE_WORDS_H
#define SLUICE_WORDS_H

#include "util.h"

/* Appends the words of line to out; -1 with a message quoting the text from an
 * unclosed quote on (then out holds the words before it). */
int words_split(const char *line, struct strv *out, struct err *e);

#endif
