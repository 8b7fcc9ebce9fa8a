/* Stack-protector support: Debian builds some compiler-rt objects (moddi3, ...) with
 * -fstack-protector, so they reference these two symbols. */
#include <stdint.h>

uintptr_t __stack_chk_guard = 0x48535843u; /* "HSXC": any non-zero canary works */

__attribute__((noreturn)) void __stack_chk_fail(void) {
    /* A smashed stack cannot be trusted to print: stop the task with a trap. */
    __builtin_trap();
}
