#include "engine/classify.h"

#include <stdio.h>
#include <string.h>

const char *http_reason(long status)
{
    static const struct { long status; const char *reason; } table[] = {
        {400, "Bad Request"}, {401, "Unauthorized"}, {402, "Payment Required"},
        {403, "Forbidden"}, {404, "Not Found"}, {405, "Method Not Allowed"},
        {406, "Not Acceptable"}, {407, "Proxy Authentication Required"},
        {408, "Request Timeout"}, {409, "Conflict"}, {410, "Gone"},
        {411, "Length Required"}, {412, "Precondition Failed"},
        {413, "Content Too Large"}, {414, "URI Too Long"},
        {415, "Unsupported Media Type"}, {416, "Range Not Satisfiable"},
        {418, "I'm a teapot"}, {421, "Misdirected Request"},
        {425, "Too Early"}, {426, "Upgrade Required"},
        {429, "Too Many Requests"}, {451, "Unavailable For Legal Reasons"},
        {500, "Internal Server Error"}, {501, "Not Implemented"},
        {502, "Bad Gateway"}, {503, "Service Unavailable"},
        {504, "Gateway Timeout"}, {505, "HTTP Version Not Supported"},
        {507, "Insufficient Storage"}, {508, "Loop Detected"},
        {511, "Network Authentication Required"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].status == status)
            return table[i].reason;
    return "";
}

int http_status_transient(long status)
{
    if (status == 408 || status == 429)
        return 1;
    return status >= 500 && status <= 599 && status != 501 && status != 505;
}

void classify_http_status(long status, const char *url, haul_error_t *err)
{
    char code[HAUL_ERR_CODE_MAX];
    snprintf(code, sizeof code, "http_%ld", status);
    const char *reason = http_reason(status);
    const char *sep = reason[0] ? " " : "";
    const char *advice;
    switch (status) {
    case 401: case 403: case 407:
        advice = "the server refuses access; check the URL and any credentials or headers it needs";
        break;
    case 404: case 410:
        advice = "the file is not there; check the URL";
        break;
    case 408: case 429:
        advice = "the server asks to slow down; haul tries again later";
        break;
    default:
        advice = http_status_transient(status)
                     ? "the server has a problem; haul tries again later"
                     : "the server rejected the request";
    }
    herr_set(err, code, http_status_transient(status),
             "the server answered %ld%s%s for %s: %s", status, sep, reason,
             url, advice);
}

/* Transience and a sentence for each libcurl failure haul can meet. */
static const struct curl_class {
    CURLcode cc;
    const char *code;
    int transient;
    const char *what;
} CURL_CLASSES[] = {
    {CURLE_UNSUPPORTED_PROTOCOL, "unsupported_scheme", 0,
     "only http:// and https:// URLs can be downloaded"},
    {CURLE_URL_MALFORMAT, "bad_url", 0, "the URL is malformed; check it"},
    {CURLE_COULDNT_RESOLVE_PROXY, "proxy_not_found", 0,
     "the proxy's host name could not be resolved; check the proxy setting"},
    {CURLE_COULDNT_RESOLVE_HOST, "host_not_found", 0,
     "the host name could not be resolved; check the URL and your network"},
    {CURLE_COULDNT_CONNECT, "connect_failed", 1,
     "could not connect to the server"},
    {CURLE_OPERATION_TIMEDOUT, "timeout", 1,
     "timed out: the server did not answer in time, or stopped sending data"},
    {CURLE_PARTIAL_FILE, "connection_cut", 1,
     "the connection closed before all the announced bytes arrived"},
    {CURLE_GOT_NOTHING, "empty_reply", 1, "the server closed the connection without answering"},
    {CURLE_RECV_ERROR, "recv_failed", 1, "receiving data failed (connection reset)"},
    {CURLE_SEND_ERROR, "send_failed", 1, "sending the request failed (connection reset)"},
    {CURLE_HTTP2, "http2_error", 1, "the HTTP/2 connection failed"},
    {CURLE_HTTP2_STREAM, "http2_error", 1, "the HTTP/2 stream was reset"},
    {CURLE_SSL_CONNECT_ERROR, "tls_failed", 1, "the TLS handshake failed"},
    {CURLE_PEER_FAILED_VERIFICATION, "tls_invalid", 0,
     "the server's TLS certificate is not valid for this host; refusing to download"},
    {CURLE_SSL_CACERT_BADFILE, "tls_invalid", 0, "the CA certificate file could not be read"},
    {CURLE_TOO_MANY_REDIRECTS, "too_many_redirects", 0,
     "the server redirected more than 10 times (a redirect loop?)"},
    {CURLE_WEIRD_SERVER_REPLY, "bad_reply", 1, "the server's reply is not valid HTTP"},
    {CURLE_BAD_CONTENT_ENCODING, "bad_reply", 0, "the server's content encoding is invalid"},
    {CURLE_FILESIZE_EXCEEDED, "too_large", 0, "the file is larger than allowed"},
    {CURLE_OUT_OF_MEMORY, "out_of_memory", 1, "out of memory"},
};

void classify_result(CURLcode cc, long status, const char *url,
                     const char *detail, haul_error_t *err)
{
    herr_clear(err);
    if (cc == CURLE_OK) {
        if (status >= 400 || (status > 0 && status < 200) ||
            (status >= 300 && status < 400))
            classify_http_status(status, url, err);
        return;
    }
    const char *d = (detail && detail[0]) ? detail : curl_easy_strerror(cc);
    for (size_t i = 0; i < sizeof CURL_CLASSES / sizeof CURL_CLASSES[0]; i++) {
        const struct curl_class *c = &CURL_CLASSES[i];
        if (c->cc == cc) {
            herr_set(err, c->code, c->transient, "%s: %s (%s)", url, c->what, d);
            return;
        }
    }
    herr_set(err, "transfer_failed", 1, "%s: the transfer failed (%s)", url, d);
}

long backoff_delay_s(unsigned attempt, long retry_after_s)
{
    if (retry_after_s >= 0)
        return retry_after_s > RETRY_AFTER_CAP_S ? RETRY_AFTER_CAP_S : retry_after_s;
    long d = BACKOFF_BASE_S;
    for (unsigned i = 1; i < attempt && d < BACKOFF_CAP_S; i++)
        d *= 2;
    return d > BACKOFF_CAP_S ? BACKOFF_CAP_S : d;
}
