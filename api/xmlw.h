/*
 * A tiny XML writer for responses: elements and escaped text, nothing more.
 */
#ifndef ECSL_XMLW_H
#define ECSL_XMLW_H

#include "buf.h"

void xml_open(struct buf *b, const char *name);
void xml_close(struct buf *b, const char *name);
void xml_text(struct buf *b, const char *text);
/* <name>escaped text</name> */
void xml_element(struct buf *b, const char *name, const char *text);

#endif
