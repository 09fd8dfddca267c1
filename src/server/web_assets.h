/* web_assets: the files of web/, embedded at build time by tools/embed.c. */
#ifndef HAUL_SERVER_WEB_ASSETS_H
#define HAUL_SERVER_WEB_ASSETS_H

#include <stddef.h>

typedef struct web_asset {
    const char *path;          /* URL path: "/index.html", "/js/app.js" */
    const char *content_type;
    const unsigned char *data; /* len bytes (NUL-terminated) */
    size_t len;
    const char *etag;          /* strong, quoted */
} web_asset_t;

extern const web_asset_t WEB_ASSETS[];
extern const unsigned WEB_NASSETS;

#endif
