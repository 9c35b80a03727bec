/* Private to gguf/: the rules the reader and the writer share, so a file the writer makes is
 * one the reader accepts. */
#ifndef SB_GGUF_INTERNAL_H
#define SB_GGUF_INTERNAL_H

#include <stdint.h>

/* Strict UTF-8 without NUL (no overlong forms, no surrogates, nothing above U+10FFFF): the rule
 * for keys and tensor names, which are handed out as C strings. 1 valid, 0 not. */
int sb_gguf_valid_utf8_no_nul(const uint8_t *s, uint64_t n);

#endif
