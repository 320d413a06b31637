/*
 * Snapshot byte streams: see stream.h. Fields are little endian whatever the
 * host, so a snapshot means the same on any machine that reads it.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "kmt/snapshot/stream.h"

static uint8_t *grow(struct kmt_wstream *w, size_t n)
{
	if (w->nomem)
		return NULL;
	if (w->cap - w->len < n) {
		size_t ncap = w->cap ? w->cap : 4096;
		while (ncap - w->len < n) {
			if (ncap > SIZE_MAX / 2) {
				w->nomem = true;
				return NULL;
			}
			ncap *= 2;
		}
		uint8_t *nb = realloc(w->buf, ncap);
		if (!nb) {
			w->nomem = true;
			return NULL;
		}
		w->buf = nb;
		w->cap = ncap;
	}
	uint8_t *p = w->buf + w->len;
	w->len += n;
	return p;
}

void kmt_ws_u32(struct kmt_wstream *w, uint32_t v)
{
	uint8_t *p = grow(w, 4);
	if (p)
		for (int i = 0; i < 4; i++)
			p[i] = (uint8_t)(v >> (8 * i));
}

void kmt_ws_u64(struct kmt_wstream *w, uint64_t v)
{
	uint8_t *p = grow(w, 8);
	if (p)
		for (int i = 0; i < 8; i++)
			p[i] = (uint8_t)(v >> (8 * i));
}

void kmt_ws_bytes(struct kmt_wstream *w, const void *src, size_t n)
{
	uint8_t *p = n ? grow(w, n) : NULL;
	if (p)
		memcpy(p, src, n);
}

void kmt_ws_tag(struct kmt_wstream *w, uint32_t tag)
{
	kmt_ws_u32(w, tag);
}

const void *kmt_rs_bytes(struct kmt_rstream *r, size_t n)
{
	if (r->bad || r->left < n) {
		r->bad = true;
		return NULL;
	}
	const void *p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

uint32_t kmt_rs_u32(struct kmt_rstream *r)
{
	const uint8_t *p = kmt_rs_bytes(r, 4);
	uint32_t v = 0;
	if (p)
		for (int i = 0; i < 4; i++)
			v |= (uint32_t)p[i] << (8 * i);
	return v;
}

uint64_t kmt_rs_u64(struct kmt_rstream *r)
{
	const uint8_t *p = kmt_rs_bytes(r, 8);
	uint64_t v = 0;
	if (p)
		for (int i = 0; i < 8; i++)
			v |= (uint64_t)p[i] << (8 * i);
	return v;
}

uint64_t kmt_rs_count(struct kmt_rstream *r, size_t item_size)
{
	uint64_t n = kmt_rs_u64(r);
	if (r->bad || (item_size && n > r->left / item_size)) {
		r->bad = true;
		return 0;
	}
	return n;
}

bool kmt_rs_tag(struct kmt_rstream *r, uint32_t tag, const char *where)
{
	if (r->bad)
		return false;
	r->where = where;
	if (kmt_rs_u32(r) != tag)
		r->bad = true;
	return !r->bad;
}
