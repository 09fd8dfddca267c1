/* serve: `haul serve`, the daemon (work in progress). */
#include <stdio.h>

#include "cli/cli.h"

int cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "haul serve: not built yet\n");
    return EXIT_FAILED;
}
