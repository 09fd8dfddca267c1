/* main.c: subcommand dispatch only. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} command_t;

static const command_t COMMANDS[] = {
    {"get", cmd_get, "download a URL in the terminal, no daemon needed"},
};

static void usage(FILE *to)
{
    fprintf(to, "haul %s, a download manager\n\nusage: haul COMMAND [options]\n\n"
                "commands:\n", HAUL_VERSION);
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        fprintf(to, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].help);
    fprintf(to, "\n'haul COMMAND --help' tells more.\n");
}

int main(int argc, char **argv)
{
    /* libcurl runs with CURLOPT_NOSIGNAL, so a peer that goes away must not
     * kill us with SIGPIPE; write errors are handled where they happen */
    signal(SIGPIPE, SIG_IGN);
    /* a file bigger than the file system allows is an error (EFBIG) to
     * report, not a reason to die */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(name, "-V") || !strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("haul %s\n", HAUL_VERSION);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        if (!strcmp(name, COMMANDS[i].name))
            return COMMANDS[i].run(argc - 1, argv + 1);
    fprintf(stderr, "haul: no command \"%s\"; 'haul --help' lists them\n", name);
    return EXIT_USAGE;
}
