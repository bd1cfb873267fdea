/* script: drives the TUI from a key script instead of a keyboard, headless, and
 * prints the screen as text where the script says `dump` (like tig's test mode).
 *
 *   size 100 30          the screen (first line; default 100x30)
 *   key j | key Enter    one key: a character, or Enter Esc Tab Up Down Left Right
 *                        Home End PgUp PgDn S-Left S-Right Backspace, or ^R (Ctrl-R)
 *   keys jjk             several characters
 *   type text            characters (for a prompt)
 *   wait-idle [ms]       until no run goes and nothing is pending (default 20000)
 *   wait-text TEXT [ms]  until the screen shows TEXT
 *   sleep ms
 *   dump [name]          prints "--- screen name ---", the screen, "--- end ---"
 *   dump-bold [name]     the same with only the cells drawn bold (the rest blank)
 *   during-load KEY      KEY, typed while a long reload goes (q, Esc stop it)
 *   stats                prints how often the flow was re-read, laid out, details built
 * A failed wait prints "--- timeout: <line> ---" and the script goes on. */
#ifndef SLUICE_SCRIPT_H
#define SLUICE_SCRIPT_H

#include "app.h"

struct script;

int script_open(const char *path, struct script **out, struct err *e);
int script_width(const struct script *s);
int script_height(const struct script *s);
/* Runs the next command (or keeps waiting); non-zero when the script is done. */
int script_step(struct script *s, struct app *a);
void script_close(struct script *s);
/* During a long reload: the key of a `during-load KEY` line when it is the next one
 * (taking it), else -1; prints what the last line says as "--- progress: ... ---". */
int script_key_during_load(struct script *s);
void script_progress(const char *line);
/* The screen as text, trailing spaces removed. Caller frees. */
char *script_screen_text(void);

#endif
