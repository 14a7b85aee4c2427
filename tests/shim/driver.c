/*
 * Test driver for tests/shim: the `shim` and `placeholder` subcommands
 * without the daemon, dispatched exactly as server/main.c does, so the tests
 * can run before (or without) the daemon binary.  Built by tests/shim/run.sh.
 */
#include <stdio.h>
#include <string.h>

#include "../../server/placeholder.h"
#include "../../server/shim.h"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "shim") == 0)
        return shim_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "placeholder") == 0)
        return placeholder_main(argc - 1, argv + 1);
    fprintf(stderr, "usage: %s shim DIR | placeholder [options]\n", argv[0]);
    return 2;
}
