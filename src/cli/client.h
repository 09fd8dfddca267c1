/* client.h: the REST client behind the client commands (add, ls, show, ...).
 *
 * Every client command talks to the daemon only through its public HTTP API
 * (docs/api.md), with a blocking libcurl easy handle. This module holds what
 * they share: the common options (--server, --token, --json, --help), one
 * function per request, the error messages and exit statuses, and a few
 * formatting helpers. */
#ifndef HAUL_CLI_CLIENT_H
#define HAUL_CLI_CLIENT_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"

#define CLIENT_DEFAULT_SERVER "http://127.0.0.1:4285"
#define CLIENT_MAX_ANSWER (16L * 1024 * 1024) /* cap on one JSON answer */
#define CLIENT_CONNECT_TIMEOUT_MS 3000L
#define CLIENT_REQUEST_TIMEOUT_S 120L

/* Option keys every client command understands (>= 256: long only). */
enum {
    CLIENT_OPT_SERVER = 1000,
    CLIENT_OPT_TOKEN,
    CLIENT_OPT_JSON,
};

/* The common entries of a client command's option table (put them last). */
#define CLIENT_COMMON_OPTIONS                                                     \
    {CLIENT_OPT_SERVER, "server", "URL",                                          \
     "the daemon (default: $HAUL_SERVER or " CLIENT_DEFAULT_SERVER ")"},          \
    {CLIENT_OPT_TOKEN, "token", "TOKEN", "the API token (default: $HAUL_TOKEN)"}, \
    {CLIENT_OPT_JSON, "json", NULL, "print the daemon's JSON answers, one per line"}, \
    {'h', "help", NULL, "show this help"}

typedef struct client {
    const char *cmd;      /* "ls": for messages ("haul ls: ...") */
    char *server;         /* base URL, no trailing slash */
    char *token;          /* NULL or "": none */
    bool json;            /* --json */
    CURL *curl;           /* created on first use */
    char errbuf[CURL_ERROR_SIZE];
} client_t;

/* A client command's description, for the option parser and --help. */
typedef struct client_cmd {
    const char *name;        /* "ls" */
    const char *synopsis;    /* "[--state S[,S]] [--limit N] [--all]" */
    const char *about;       /* a paragraph for --help */
    const cli_option_t *opts;
    size_t nopts;
} client_cmd_t;

/* One HTTP answer. */
typedef struct client_resp {
    long status;            /* HTTP status, 0 when none came */
    char reason[64];        /* the status line's reason phrase, "" if none */
    char *body;             /* NUL-terminated, may be NULL */
    size_t len;
    json_t *json;           /* the body parsed, NULL when it is not JSON */
} client_resp_t;

void client_free(client_t *c);

/* Handler for a command's own options: returns 0, or an exit status (after
 * printing a message) to stop with. */
typedef int (*client_opt_fn)(void *ud, int key, const char *arg);

/* Sets c up (defaults from HAUL_SERVER and HAUL_TOKEN) and parses argv with
 * the command's table (which includes CLIENT_COMMON_OPTIONS). Returns -1 to
 * go on (the operands start at optind), or the exit status to return right
 * away: EXIT_OK after --help, EXIT_USAGE after a bad option. Either way the
 * caller frees c with client_free. */
int client_start(client_t *c, const client_cmd_t *cmd, int argc, char **argv,
                 client_opt_fn on_opt, void *ud);

/* For a command that takes no operands: returns -1 when none follow the
 * options, else a usage error "CMD takes no operands (got "X")" + hint. */
int client_no_operands(const client_t *c, int argc, char **argv, const char *hint);

/* Prints "haul CMD: see 'haul CMD --help'" style usage errors to stderr and
 * returns EXIT_USAGE. */
int client_usage_error(const client_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A configured easy handle for METHOD SERVER/PATH (auth, no proxy, connect
 * timeout); *headers receives the header list to free after the transfer.
 * Returns NULL (message printed) when libcurl fails. */
CURL *client_handle(client_t *c, const char *method, const char *path,
                    const char *body, struct curl_slist **headers);

/* Does one request and fills r (free with client_resp_free). Returns 0 when
 * an HTTP answer came (any status), or an exit status after printing why
 * none did (EXIT_UNREACHABLE when no daemon answers). */
int client_request(client_t *c, const char *method, const char *path,
                   const json_t *body, client_resp_t *r);
void client_resp_free(client_resp_t *r);

/* Explains a transport failure (code from curl_easy_perform) on stderr and
 * returns the exit status for it. */
int client_transport_error(client_t *c, CURLcode code);

/* Explains a non-2xx answer on stderr ("haul: [context: ]message") and
 * returns the exit status for it (EXIT_HTTP). context may be NULL. */
int client_http_error(const client_t *c, const char *method, const char *path,
                      const client_resp_t *r, const char *context);

/* client_request plus the error handling: on a 2xx JSON answer sets *out
 * (the caller owns it) and returns EXIT_OK; otherwise prints why and
 * returns the exit status. */
int client_call(client_t *c, const char *method, const char *path, const json_t *body,
                const char *context, json_t **out);

/* Prints j as one line of compact JSON to stdout. */
void client_print_json(const json_t *j);

/* s for a URL's path or query, into out: everything but [0-9A-Za-z-_.]
 * percent-escaped. */
void client_escape(const char *s, char *out, size_t outsz);

/* Accessors that tolerate missing or mistyped fields. */
const char *jstr(const json_t *o, const char *key);     /* "" when absent */
int64_t jint(const json_t *o, const char *key, int64_t dflt);
double jnum(const json_t *o, const char *key, double dflt);

/* The name to show for a job: file name, else title, else URL. */
const char *client_job_name(const json_t *job);

/* Copies s into out with control characters replaced by '?', so no text
 * from the network can move the cursor or change the terminal. */
void client_printable(const char *s, char *out, size_t outsz);

/* "2026-11-28T17:00:01Z" as local "2026-11-28 17:00:01" into out; "-" for
 * null or empty; the text itself when it does not parse. */
void client_fmt_time(const char *iso, char *out, size_t outsz);


/* Prints the jobs as an aligned table (ID STATE PROGRESS SIZE SPEED ETA
 * NAME); with width > 0 each line is cut to width columns. */
void client_print_table(FILE *to, const json_t *jobs, int width);

#endif
