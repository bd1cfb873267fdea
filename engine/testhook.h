/* testhook: fault injection for the test suite only; not part of sluice's interface.
 *
 * Named points in the engine (a store commit, a history commit...) call testhook().
 * Unless the environment variable SLUICE_TEST_HOOK (read here and nowhere else)
 * arms that point, it returns 0 at the cost of one getenv(). Its value is
 * "POINT ACTION [N DIR]": with N and DIR, only the Nth time any process reaches
 * POINT (counted in DIR/POINT.hits) is armed; without them, every time. Actions:
 *   stop    write DIR/stopped (the point's name) and sleep until killed (kill -9 tests)
 *   wait    write DIR/stopped, then go on (returning 0) once DIR/go exists, or after a
 *           minute (races)
 *   enospc, eio, erofs   return that errno for the caller to fail with
 *   on      return 1 (the caller does its test-only alternative)
 */
#ifndef SLUICE_TESTHOOK_H
#define SLUICE_TESTHOOK_H

/* Returns 0, an errno value or 1 (see above); never returns for "stop". */
int testhook(const char *point);

#endif
