/*
 * JSON strings for gpusim's JSON outputs: escaped so that any bytes (a trace's or
 * a snapshot's names are raw bytes from a file) give a document that parses.
 */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sim/jsonw.h"

/* Length of the well-formed UTF-8 sequence at p (at most `left` bytes), or 0: no
 * overlongs, no surrogates, nothing above U+10FFFF. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	unsigned c = p[0];
	size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	if (!n || n > left)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if (n == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
		return 0;
	if (n == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
		return 0;
	return n;
}

void jw_string_n(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strnlen(s, n);
	const unsigned char *end = p + len;
	fputc('"', f);
	while (p < end) {
		unsigned c = *p;
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc((int)c, f);
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			p++;
		} else if (c < 0x80) {
			fputc((int)c, f);
			p++;
		} else {
			size_t k = utf8_len(p, (size_t)(end - p));
			if (k) {
				fwrite(p, 1, k, f);
				p += k;
			} else {
				fprintf(f, "\\u%04x", c);
				p++;
			}
		}
	}
	fputc('"', f);
}

void jw_string(FILE *f, const char *s)
{
	jw_string_n(f, s, SIZE_MAX);
}
