#include "util/url.h"

#include <curl/curl.h>
#include <string.h>
#include <strings.h>

int url_check(const char *url, haul_error_t *err)
{
    if (!url || !url[0])
        return herr_set(err, "bad_url", false, "the URL is empty: give an http:// or https:// URL");
    if (strlen(url) > URL_MAX)
        return herr_set(err, "bad_url", false, "the URL is longer than %d bytes", URL_MAX);
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return herr_set(err, "bad_url", false,
                            "the URL \"%.200s\" contains spaces or control characters; "
                            "encode them (%%20) or quote the URL", url);
    CURLU *u = curl_url();
    if (!u)
        return herr_set(err, "out_of_memory", true, "out of memory");
    int rc = 0;
    char *scheme = NULL, *host = NULL;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        if (!strstr(url, "://"))
            rc = herr_set(err, "bad_url", false,
                          "\"%.200s\" is not a URL: give a full address starting with "
                          "http:// or https://", url);
        else
            rc = herr_set(err, "bad_url", false, "\"%.200s\" is not a valid URL (%s)",
                          url, curl_url_strerror(uc));
    } else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
               (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
        rc = herr_set(err, "unsupported_scheme", false,
                      "\"%.200s\" uses the scheme %s: haul downloads http:// and "
                      "https:// URLs only", url, scheme ? scheme : "?");
    } else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0]) {
        rc = herr_set(err, "bad_url", false, "\"%.200s\" has no host name", url);
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}
