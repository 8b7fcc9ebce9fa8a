/* Process exit, atexit and assertions.
 *
 * The task ends through TASK_EXIT (SVC 1_00, code in R0). abort() ends it
 * with status 134, the shell status of a native SIGABRT, and writes
 * nothing. Handlers registered with atexit/__cxa_atexit (clang lowers C
 * destructors to the latter on wasm) run in reverse order in exit() and
 * after a normal return from main. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#include "../include/hsx.h"

#define MAX_ATEXIT 32

static struct {
    void (*fn)(void *);
    void (*fn0)(void);
    void *arg;
} handlers[MAX_ATEXIT];
static int nhandlers;

int __cxa_atexit(void (*fn)(void *), void *arg, void *dso)
{
    (void)dso;
    if (nhandlers == MAX_ATEXIT)
        return -1;
    handlers[nhandlers].fn = fn;
    handlers[nhandlers].fn0 = 0;
    handlers[nhandlers++].arg = arg;
    return 0;
}

int atexit(void (*fn)(void))
{
    if (nhandlers == MAX_ATEXIT)
        return -1;
    /* kept apart from fn(void *): calling through the wrong type traps in wasm */
    handlers[nhandlers].fn = 0;
    handlers[nhandlers++].fn0 = fn;
    return 0;
}

_Noreturn void _Exit(int code)
{
    __hsx_svc_1_00(code);
    __builtin_trap(); /* not reached: TASK_EXIT stops the task */
}

static void run_handlers(void)
{
    while (nhandlers > 0) {
        nhandlers--;
        if (handlers[nhandlers].fn0)
            handlers[nhandlers].fn0();
        else
            handlers[nhandlers].fn(handlers[nhandlers].arg);
    }
}

/* wasi-libc's crt1 returns from _start without exit() when main returns 0;
 * wasm-ld then calls __wasm_call_dtors after _start (command modules), so
 * the handlers run on that path too. Replaces wasi-libc's, which would drag
 * in its stdio shutdown. */
void __wasm_call_dtors(void)
{
    run_handlers();
}

_Noreturn void exit(int code)
{
    run_handlers();
    _Exit(code);
}

_Noreturn void abort(void)
{
    _Exit(134);
}

/* Program name for assertion messages. hsx cc may define this (strongly) as
 * the program's name; otherwise argv[0] from WASI args is used. */
__attribute__((weak)) const char *__hsx_progname;

static const char *progname(char *buf, unsigned cap)
{
    if (__hsx_progname)
        return __hsx_progname;
    __wasi_size_t argc = 0, size = 0;
    if (__wasi_args_sizes_get(&argc, &size) || !argc || size > cap)
        return "";
    char *argv[argc];
    if (__wasi_args_get((uint8_t **)argv, (uint8_t *)buf))
        return "";
    const char *p = strrchr(argv[0], '/');
    return p ? p + 1 : argv[0];
}

/* glibc's message: "prog: file:line: func: Assertion `expr' failed." */
_Noreturn void __assert_fail(const char *expr, const char *file, int line, const char *func)
{
    char buf[128];
    const char *prog = progname(buf, sizeof buf);
    fprintf(stderr, "%s%s%s:%u: %s%sAssertion `%s' failed.\n", prog, *prog ? ": " : "", file,
            (unsigned)line, func ? func : "", func ? ": " : "", expr);
    abort();
}
