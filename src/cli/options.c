#include "cli/cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <string.h>

void cli_getopt_tables(const cli_option_t *opts, size_t n,
                       struct option *longopts, char *shortopts)
{
    size_t s = 0;
    for (size_t i = 0; i < n; i++) {
        longopts[i] = (struct option){opts[i].name,
                                      opts[i].arg ? required_argument : no_argument,
                                      NULL, opts[i].key};
        if (opts[i].key < 256) {
            shortopts[s++] = (char)opts[i].key;
            if (opts[i].arg)
                shortopts[s++] = ':';
        }
    }
    longopts[n] = (struct option){0, 0, 0, 0};
    shortopts[s] = '\0';
}

void cli_print_options(const cli_option_t *opts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char left[64];
        if (opts[i].key < 256)
            snprintf(left, sizeof left, "-%c, --%s%s%s", opts[i].key, opts[i].name,
                     opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", opts[i].name,
                     opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
        printf("  %-28s %s\n", left, opts[i].help);
    }
}

int cli_term_size(int fd, int *rows)
{
    struct winsize ws = {0};
    bool tty = isatty(fd);
    if (tty)
        ioctl(fd, TIOCGWINSZ, &ws);
    if (rows)
        *rows = ws.ws_row > 0 ? ws.ws_row : 24;
    return !tty ? 0 : ws.ws_col > 0 ? ws.ws_col : 80;
}
