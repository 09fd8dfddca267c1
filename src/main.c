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
    {"serve", cmd_serve, "run the daemon: REST API, live events, downloads"},
    {"get", cmd_get, "download a URL in the terminal, no daemon needed"},
    {"add", cmd_add, "add downloads to the daemon"},
    {"ls", cmd_ls, "list jobs"},
    {"show", cmd_show, "show one job"},
    {"pause", cmd_pause, "pause jobs (the part data is kept)"},
    {"resume", cmd_resume, "resume paused jobs"},
    {"cancel", cmd_cancel, "cancel jobs (the part data is deleted)"},
    {"retry", cmd_retry, "retry failed or canceled jobs"},
    {"rm", cmd_rm, "remove jobs (and optionally their files)"},
    {"clean", cmd_clean, "remove finished, failed and canceled jobs"},
    {"watch", cmd_watch, "a live table of active jobs"},
    {"stats", cmd_stats, "the daemon's counters"},
    {"logs", cmd_logs, "a job's history"},
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
