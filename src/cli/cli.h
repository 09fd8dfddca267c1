/* cli: the client commands. Each takes the arguments after its own name
 * and returns the process exit status. */
#ifndef HAUL_CLI_CLI_H
#define HAUL_CLI_CLI_H

#include <getopt.h>
#include <stddef.h>

/* Exit statuses shared by every command (docs/cli.md lists them). */
enum {
    EXIT_OK = 0,
    EXIT_FAILED = 1,       /* the download failed (network, server) */
    EXIT_USAGE = 2,        /* bad command line */
    EXIT_HTTP = 3,         /* the server refused (4xx, permanent 5xx) */
    EXIT_VERIFY = 4,       /* size or SHA-256 did not match */
    EXIT_LOCAL = 5,        /* local trouble: disk full, permissions */
    EXIT_UNREACHABLE = 6,  /* no daemon answers at --server */
    EXIT_INTERRUPTED = 130 /* Ctrl-C: the part data is kept */
};

/* One command-line option: drives getopt_long and the --help text. */
typedef struct cli_option {
    int key;             /* short letter, or a value >= 256 */
    const char *name;    /* long name */
    const char *arg;     /* argument's name for help, NULL: a flag */
    const char *help;
} cli_option_t;

/* Fills longopts (n + 1 entries) and shortopts (3n + 1 bytes) from the
 * table of n options. */
void cli_getopt_tables(const cli_option_t *opts, size_t n,
                       struct option *longopts, char *shortopts);

/* Columns of the terminal on fd, 0 when fd is not a terminal; its rows go
 * to *rows when rows is not NULL (24 when unknown). */
int cli_term_size(int fd, int *rows);

/* Prints the option table as help text to stdout. */
void cli_print_options(const cli_option_t *opts, size_t n);

int cmd_get(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* client commands (client_*.c): each is one or more REST calls */
int cmd_add(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_cancel(int argc, char **argv);
int cmd_retry(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_clean(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_logs(int argc, char **argv);

#endif
