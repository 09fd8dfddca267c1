/* web: the web UI, served from the files of web/ embedded into the binary
 * (web_assets.c, made by tools/embed.c at build time). "/" is index.html;
 * every other file is at its path under web/. Strong ETags let a browser
 * revalidate cheaply (304), and "no-cache" makes it revalidate every time,
 * so an upgraded daemon never runs with an old page's scripts. */
#include <event2/buffer.h>
#include <event2/http.h>
#include <string.h>

#include "server/internal.h"
#include "server/web_assets.h"

static const web_asset_t *find_asset(const char *path)
{
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (unsigned i = 0; i < WEB_NASSETS; i++)
        if (strcmp(WEB_ASSETS[i].path, path) == 0)
            return &WEB_ASSETS[i];
    return NULL;
}

void web_serve(server_t *srv, struct evhttp_request *req, const char *path)
{
    (void)srv;
    const web_asset_t *a = find_asset(path);
    if (!a) {
        reply_error(req, 404, "not_found", NULL,
                    "no such path: %s (the web UI is at /, the API under /api, see docs/api.md)",
                    path);
        return;
    }
    int method = (int)evhttp_request_get_command(req);
    if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
        reply_error(req, 405, "method_not_allowed", NULL,
                    "%s is a file of the web UI; use GET or HEAD", path);
        return;
    }
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "ETag", a->etag);
    evhttp_add_header(out, "Cache-Control", "no-cache");
    evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
    if (strcmp(a->content_type, "text/html; charset=utf-8") == 0)
        evhttp_add_header(out, "Content-Security-Policy",
                          "default-src 'self'; media-src 'self' blob:; img-src 'self' data:; "
                          "style-src 'self'; script-src 'self'; object-src 'none'; "
                          "frame-ancestors 'none'");
    const char *inm =
        evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
    if (inm && strstr(inm, a->etag)) {
        evhttp_send_reply(req, 304, "Not Modified", NULL);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        evhttp_send_error(req, 500, "Out of memory");
        return;
    }
    evbuffer_add_reference(b, a->data, a->len, NULL, NULL);
    evhttp_add_header(out, "Content-Type", a->content_type);
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}
