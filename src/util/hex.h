/* hex: hexadecimal digits, shared by the percent-decoders. */
#ifndef HAUL_UTIL_HEX_H
#define HAUL_UTIL_HEX_H

/* Value of the hex digit c, or -1. */
static inline int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
