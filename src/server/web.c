/* web: GET / — the web UI. Until the full UI lands (issue 4), a small page
 * that lists the jobs through the API and can add one. */
#include <event2/buffer.h>
#include <event2/http.h>
#include <string.h>

#include "server/internal.h"

static const char PAGE[] =
    "<!doctype html><html><head><meta charset=utf-8><title>haul</title>"
    "<style>body{font:14px system-ui;margin:2em}td{padding:2px 8px}</style></head>"
    "<body><h1>haul</h1><form id=f><input id=u size=60 placeholder='https://…'>"
    "<button>Add</button></form><p id=e></p><table id=t></table><script>"
    "async function load(){const r=await fetch('/api/jobs?limit=100');const d=await r.json();"
    "t.innerHTML='';for(const j of d.jobs){const tr=t.insertRow();"
    "for(const v of [j.id,j.state,j.filename||j.title,j.bytes_done+' / '+j.bytes_total])"
    "tr.insertCell().textContent=v}}"
    "f.onsubmit=async ev=>{ev.preventDefault();const r=await fetch('/api/jobs',{method:'POST',"
    "headers:{'Content-Type':'application/json'},body:JSON.stringify({url:u.value})});"
    "e.textContent=r.ok?'':(await r.json()).error.message;load()};"
    "load();setInterval(load,2000)</script></body></html>";

void web_serve(server_t *srv, struct evhttp_request *req, const char *id)
{
    (void)srv;
    (void)id;
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        evhttp_send_error(req, 500, "Out of memory");
        return;
    }
    evbuffer_add_reference(b, PAGE, sizeof PAGE - 1, NULL, NULL);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/html; charset=utf-8");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}
