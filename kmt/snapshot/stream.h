/*
 * The byte stream a snapshot's resume state is written in: little-endian fixed
 * width fields appended to a growing buffer, and a reader that checks every read
 * against the end so that a damaged stream is an error, never an overrun.
 */
#ifndef KMT_SNAPSHOT_STREAM_H
#define KMT_SNAPSHOT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kmt_wstream {
	uint8_t *buf;
	size_t len, cap;
	bool nomem;            /* sticky: a write failed for want of memory */
};

void kmt_ws_u32(struct kmt_wstream *w, uint32_t v);
void kmt_ws_u64(struct kmt_wstream *w, uint64_t v);
void kmt_ws_bytes(struct kmt_wstream *w, const void *p, size_t n);
/* A section tag: a restore checks it, so a stream cut or shifted is caught where
 * it goes wrong rather than as a strange value later. */
void kmt_ws_tag(struct kmt_wstream *w, uint32_t tag);

struct kmt_rstream {
	const uint8_t *p;
	size_t left;
	bool bad;              /* sticky: a read went past the end or a tag differed */
	const char *where;     /* the section being read, for the error message */
};

uint32_t kmt_rs_u32(struct kmt_rstream *r);
uint64_t kmt_rs_u64(struct kmt_rstream *r);
/* n bytes in place (NULL, and bad set, when fewer are left). */
const void *kmt_rs_bytes(struct kmt_rstream *r, size_t n);
/* A count of items of item_size bytes each that must all still be in the stream:
 * a huge count from a damaged stream is refused before anything is allocated. */
uint64_t kmt_rs_count(struct kmt_rstream *r, size_t item_size);
bool kmt_rs_tag(struct kmt_rstream *r, uint32_t tag, const char *where);

#endif
