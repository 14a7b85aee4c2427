/*
 * A tiny XML writer for responses.
 */
#include <string.h>

#include "xmlw.h"

void xml_open(struct buf *b, const char *name)
{
    buf_addc(b, '<');
    buf_adds(b, name);
    buf_addc(b, '>');
}

void xml_close(struct buf *b, const char *name)
{
    buf_add(b, "</", 2);
    buf_adds(b, name);
    buf_addc(b, '>');
}

/* The length of the valid UTF-8 sequence at p (1-4), or 0 if it is not
 * one. */
static int utf8_len(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    int n = (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0 || (n == 2 && p[0] < 0xc2) || (n == 4 && p[0] > 0xf4))
        return 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0)))
        return 0;   /* overlong, or a UTF-16 surrogate */
    if (n == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90)))
        return 0;
    return n;
}

void xml_text(struct buf *b, const char *text)
{
    const char *run = text;
    const char *p = text;
    while (*p) {
        const char *rep = NULL;
        unsigned char ch = (unsigned char)*p;
        int n = 1;
        switch (ch) {
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '&': rep = "&amp;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        case '\r': rep = "&#13;"; break;
        default:
            /* Control characters other than tab and newline are not
             * allowed in XML 1.0, and bytes that are not UTF-8 would make
             * the whole document unreadable: drop the first, replace the
             * second with U+FFFD. */
            if (ch < 0x20 && ch != '\t' && ch != '\n')
                rep = "";
            else if ((n = utf8_len((const unsigned char *)p)) == 0) {
                rep = "\xef\xbf\xbd";
                n = 1;
            }
        }
        if (rep) {
            buf_add(b, run, (size_t)(p - run));
            buf_adds(b, rep);
            p += n;
            run = p;
        } else {
            p += n;
        }
    }
    buf_adds(b, run);
}

void xml_element(struct buf *b, const char *name, const char *text)
{
    xml_open(b, name);
    xml_text(b, text);
    xml_close(b, name);
}
