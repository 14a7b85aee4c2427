/*
 * ecslocal-shim: the task supervisor as a small program of its own.
 *
 * Every task start execs a supervisor, and every container without a
 * command execs the placeholder; the daemon's binary links some forty
 * shared libraries whose loading would be paid on each of them.  This one
 * links libc and jansson only.  `ecslocal shim` and `ecslocal placeholder`
 * do the same when this binary is not installed beside ecslocal.
 */
#include <stdio.h>
#include <string.h>

#include "placeholder.h"
#include "shim.h"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "shim") == 0)
        return shim_command(argc, argv);
    if (argc > 1 && strcmp(argv[1], "placeholder") == 0)
        return placeholder_main(argc - 1, argv + 1);
    fprintf(stderr, "usage: ecslocal-shim shim DIR [--parent PID] | placeholder ...\n");
    return 2;
}
