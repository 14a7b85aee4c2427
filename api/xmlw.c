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

void xml_text(struct buf *b, const char *text)
{
    const char *run = text;
    for (const char *p = text; *p; p++) {
        const char *rep = NULL;
        unsigned char ch = (unsigned char)*p;
        switch (ch) {
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '&': rep = "&amp;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        case '\r': rep = "&#13;"; break;
        default:
            /* Control characters other than tab and newline are not
             * allowed in XML 1.0; drop them rather than send a document
             * the client cannot parse. */
            if (ch < 0x20 && ch != '\t' && ch != '\n')
                rep = "";
        }
        if (rep) {
            buf_add(b, run, (size_t)(p - run));
            buf_adds(b, rep);
            run = p + 1;
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
