/* hsx_task_exit ends the task at once with its code: atexit handlers do not run (exit()
 * would run them). Output written before it is not lost. */
#include <stdio.h>
#include <stdlib.h>
#include "hsx.h"

static void bye(void) { printf("atexit handler ran\n"); }

int main(void)
{
    atexit(bye);
    printf("steps so far > 0: %d\n", hsx_steps() > 0);
    printf("leaving with hsx_task_exit(9)\n");
    hsx_task_exit(9);
    printf("not reached\n");
    return 1;
}
