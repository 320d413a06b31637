/*
 * The device's state as data, for snapshots: save and load everything that is
 * not memory by walking the table of hw/vmstate.c, in the self-describing bytes
 * of <gpusim/hwstate.h>; a side-effect-free register dump; the populated pages.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gpusim/hwstate.h>
#include "hw/hw_internal.h"
#include "hw/vmstate.h"

/* ---- the bytes ---------------------------------------------------------------- */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool nomem;
};

static void put(struct wbuf *w, uint64_t v, unsigned width)
{
	if (w->nomem)
		return;
	if (w->cap - w->len < width) {
		size_t ncap = w->cap ? w->cap * 2 : 4096;
		uint8_t *np = realloc(w->p, ncap);
		if (!np) {
			w->nomem = true;
			return;
		}
		w->p = np;
		w->cap = ncap;
	}
	for (unsigned k = 0; k < width; k++)
		w->p[w->len++] = (uint8_t)(v >> (8 * k));
}

static uint64_t get_le(const uint8_t *p, unsigned width)
{
	uint64_t v = 0;
	for (unsigned k = 0; k < width; k++)
		v |= (uint64_t)p[k] << (8 * k);
	return v;
}

static unsigned width_of(uint32_t type)
{
	switch (type & HW_STATE_TYPE_MASK) {
	case HW_STATE_U32: return 4;
	case HW_STATE_U64: return 8;
	case HW_STATE_BOOL: return 1;
	default: return 0;
	}
}

uint64_t hw_state_item_value(const struct hw_state_item *it, uint64_t i)
{
	unsigned w = width_of(it->type);
	return get_le(it->values + i * w, w);
}

static int bad(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Names are plain so that reports and JSON print them as they are. */
static bool name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '.';
}

int hw_state_walk(const void *buf, size_t len, uint32_t *version,
		  int (*fn)(void *opaque, const struct hw_state_item *it), void *opaque, char *err,
		  size_t errlen)
{
	const uint8_t *p = buf;
	if (len < 8 || !p)
		return bad(err, errlen, "the device state is cut short (%zu bytes, no header)", len);
	uint32_t ver = (uint32_t)get_le(p, 4), n = (uint32_t)get_le(p + 4, 4);
	if (!ver)
		return bad(err, errlen, "the device state has version 0");
	if (version)
		*version = ver;
	size_t at = 8;
	for (uint32_t i = 0; i < n; i++) {
		/* Every length is checked against what is left before it is used. */
		if (len - at < 8)
			return bad(err, errlen, "the device state is cut short in field %u (at byte %zu)", i, at);
		uint64_t rec = get_le(p + at, 4), namelen = get_le(p + at + 4, 4);
		size_t body = at + 4;
		if (rec > len - body || rec < 4 + 4 + 8 || namelen < 1 || namelen > HW_STATE_NAME_MAX ||
		    namelen > rec - 16)
			return bad(err, errlen, "the device state's field %u (at byte %zu) has a bad length", i, at);
		struct hw_state_item it;
		memcpy(it.name, p + body + 4, (size_t)namelen);
		it.name[namelen] = '\0';
		for (uint64_t k = 0; k < namelen; k++)
			if (!name_char((uint8_t)it.name[k]))
				return bad(err, errlen, "the device state's field %u (at byte %zu) has a malformed name",
					   i, at);
		const uint8_t *q = p + body + 4 + namelen;
		uint32_t type = (uint32_t)get_le(q, 4);
		unsigned w = width_of(type);
		if (!w || (type & ~(HW_STATE_TYPE_MASK | HW_STATE_HEX | HW_STATE_ARRAY)))
			return bad(err, errlen, "field %s has unknown type 0x%x", it.name, type);
		it.type = type & HW_STATE_TYPE_MASK;
		it.hex = type & HW_STATE_HEX;
		it.array = type & HW_STATE_ARRAY;
		it.count = get_le(q + 4, 8);
		uint64_t room = rec - 16 - namelen;
		if (!it.array && it.count != 1)
			return bad(err, errlen, "field %s is a scalar with %llu values", it.name,
				   (unsigned long long)it.count);
		if (it.count > room / w || it.count * w != room)
			return bad(err, errlen, "field %s's %llu values do not fill its %llu bytes", it.name,
				   (unsigned long long)it.count, (unsigned long long)room);
		it.values = q + 12;
		if (it.type == HW_STATE_BOOL)
			for (uint64_t k = 0; k < it.count; k++)
				if (it.values[k] > 1)
					return bad(err, errlen, "field %s: boolean %u is neither 0 nor 1", it.name,
						   it.values[k]);
		int rc = fn ? fn(opaque, &it) : 0;
		if (rc)
			return rc;
		at = body + (size_t)rec;
	}
	if (at != len)
		return bad(err, errlen, "the device state has %zu bytes after its %u fields", len - at, n);
	return 0;
}

struct find {
	const char *name;
	struct hw_state_item *out;
};

static int find_one(void *opaque, const struct hw_state_item *it)
{
	struct find *f = opaque;
	if (strcmp(it->name, f->name))
		return 0;
	*f->out = *it;
	return 1;
}

int hw_state_find(const void *buf, size_t len, const char *name, struct hw_state_item *out)
{
	struct find f = { name, out };
	int rc = hw_state_walk(buf, len, NULL, find_one, &f, NULL, 0);
	return rc == 1 ? 0 : rc ? rc : -ENOENT;
}

/* ---- fields in a device --------------------------------------------------------- */

#define FOR_EACH_FIELD(sec, inst, f)                                                               \
	for (const struct hw_vms_section *sec = hw_vms_sections; sec < hw_vms_sections + hw_vms_nsections; \
	     sec++)                                                                                    \
		for (unsigned inst = 0; inst < sec->count; inst++)                                     \
			for (const struct hw_vms_field *f = sec->fields; f < sec->fields + sec->nfields; f++)

static size_t nfields_total(void)
{
	size_t n = 0;
	for (size_t s = 0; s < hw_vms_nsections; s++)
		n += hw_vms_sections[s].count * hw_vms_sections[s].nfields;
	return n;
}

int hw_device_save_state(struct hw_device *dev, uint8_t **buf, size_t *len)
{
	struct wbuf w = { 0 };
	put(&w, HW_STATE_VERSION, 4);
	put(&w, nfields_total(), 4);
	FOR_EACH_FIELD(sec, inst, f) {
		char name[HW_STATE_NAME_MAX + 1];
		hw_vms_name(sec, inst, f, name, sizeof(name));
		size_t nl = strlen(name);
		unsigned wd = width_of(f->type);
		uint64_t n = hw_vms_count(dev, f);
		put(&w, 4 + nl + 4 + 8 + n * wd, 4);
		put(&w, nl, 4);
		for (size_t k = 0; k < nl; k++)
			put(&w, (uint8_t)name[k], 1);
		put(&w, f->type | (f->array ? HW_STATE_ARRAY : 0), 4);
		put(&w, n, 8);
		for (uint64_t k = 0; k < n; k++)
			put(&w, hw_vms_get(dev, sec, inst, f, k), wd);
	}
	if (w.nomem) {
		free(w.p);
		return -ENOMEM;
	}
	*buf = w.p;
	*len = w.len;
	return 0;
}

/* ---- loading: decode into a proposed device, check it all, then commit ---------- */

struct load {
	struct hw_device *dev;        /* as it is, untouched until the commit */
	struct hw_device st;          /* the proposed state: a copy with the fields decoded in */
	uint32_t version;
	bool *seen;                   /* per field instance, in table order */
	void **fresh;                 /* arrays allocated for st, one per pointer member */
	size_t *fresh_at;             /* their pointer members' offsets in the device */
	size_t nfresh;
	char *err;
	size_t errlen;
};

static int stage(void *opaque, const struct hw_state_item *it)
{
	struct load *l = opaque;
	size_t idx = 0;
	FOR_EACH_FIELD(sec, inst, f) {
		char name[HW_STATE_NAME_MAX + 1];
		hw_vms_name(sec, inst, f, name, sizeof(name));
		if (strcmp(name, it->name)) {
			idx++;
			continue;
		}
		if (l->seen[idx])
			return bad(l->err, l->errlen, "field %s appears twice", name);
		l->seen[idx] = true;
		if (it->type != (f->type & HW_STATE_TYPE_MASK) || it->array != !!f->array)
			return bad(l->err, l->errlen, "field %s has type %u%s, this gpusim's has type %u%s",
				   name, it->type, it->array ? " (array)" : "", f->type & HW_STATE_TYPE_MASK,
				   f->array ? " (array)" : "");
		if (!f->array) {
			hw_vms_put(&l->st, sec, inst, f, 0, hw_state_item_value(it, 0));
			return 0;
		}
		const struct hw_vms_array *a = f->array;
		size_t ptr_at = hw_vms_offset(sec, inst, f);
		size_t k;
		for (k = 0; k < l->nfresh && l->fresh_at[k] != ptr_at; k++)
			;
		if (k == l->nfresh) {
			/* The first field of this array: it sets the length. */
			uint64_t bound = a->bound(&l->st);
			if (it->count > bound)
				return bad(l->err, l->errlen, "field %s has %llu elements, at most %llu fit",
					   name, (unsigned long long)it->count, (unsigned long long)bound);
			if (!a->set_count && it->count != a->count(&l->st))
				return bad(l->err, l->errlen, "field %s has %llu elements, the configuration %llu",
					   name, (unsigned long long)it->count,
					   (unsigned long long)a->count(&l->st));
			size_t bytes = (size_t)(it->count ? it->count : 1) * a->stride;
			void *old, *p = calloc(1, bytes);
			if (!p) {
				return -ENOMEM;
			}
			/* A fixed-length array keeps what a state older than some of its
			 * members does not carry. */
			memcpy(&old, (uint8_t *)&l->st + ptr_at, sizeof(old));
			if (!a->set_count)
				memcpy(p, old, bytes);
			memcpy((uint8_t *)&l->st + ptr_at, &p, sizeof(p));
			l->fresh[l->nfresh] = p;
			l->fresh_at[l->nfresh++] = ptr_at;
			if (a->set_count)
				a->set_count(&l->st, it->count);
		} else if (it->count != a->count(&l->st)) {
			return bad(l->err, l->errlen, "field %s has %llu elements, its array %llu", name,
				   (unsigned long long)it->count, (unsigned long long)a->count(&l->st));
		}
		for (uint64_t e = 0; e < it->count; e++)
			hw_vms_put(&l->st, sec, inst, f, e, hw_state_item_value(it, e));
		return 0;
	}
	return bad(l->err, l->errlen, "the device state has field %s, which this gpusim does not know "
		   "(the state is version %u, this gpusim writes version %u)", it->name, l->version,
		   HW_STATE_VERSION);
}

/* Every field of the proposed state against its rule. */
static int check_fields(struct load *l)
{
	size_t idx = 0;
	FOR_EACH_FIELD(sec, inst, f) {
		char name[HW_STATE_NAME_MAX + 1];
		hw_vms_name(sec, inst, f, name, sizeof(name));
		if (!l->seen[idx++] && f->since <= l->version)
			return bad(l->err, l->errlen, "the device state lacks field %s (version %u has it)", name,
				   l->version);
		uint64_t n = hw_vms_count(&l->st, f);
		for (uint64_t k = 0; k < n; k++) {
			uint64_t v = hw_vms_get(&l->st, sec, inst, f, k);
			char at[32] = "", why[160] = "";
			if (f->array)
				snprintf(at, sizeof(at), "[%llu]", (unsigned long long)k);
			if (hw_vms_field_ok(&l->st, inst, f, k, v, why, sizeof(why)))
				continue;
			return bad(l->err, l->errlen, "field %s%s: %s", name, at, why);
		}
	}
	return 0;
}

int hw_device_load_state(struct hw_device *dev, const void *buf, size_t len, char *err,
			 size_t errlen)
{
	size_t n = nfields_total();
	struct load l = { .dev = dev, .st = *dev, .err = err, .errlen = errlen };
	l.seen = calloc(n, sizeof(*l.seen));
	l.fresh = calloc(n, sizeof(*l.fresh));
	l.fresh_at = calloc(n, sizeof(*l.fresh_at));
	int rc = -ENOMEM;
	if (!l.seen || !l.fresh || !l.fresh_at)
		goto out;
	rc = hw_state_walk(buf, len, &l.version, NULL, NULL, err, errlen);
	if (!rc)
		rc = hw_state_walk(buf, len, NULL, stage, &l, err, errlen);
	if (!rc)
		rc = check_fields(&l);
	if (!rc)
		rc = hw_vms_derive(&l.st, err, errlen);
	if (rc)
		goto out;
	/* Commit: nothing can fail from here. */
	for (size_t k = 0; k < l.nfresh; k++) {
		void *old;
		memcpy(&old, (uint8_t *)dev + l.fresh_at[k], sizeof(old));
		free(old);
	}
	l.nfresh = 0;
	hw_vms_derived_free(dev);
	*dev = l.st;
out:
	for (size_t k = 0; k < l.nfresh; k++)
		free(l.fresh[k]);
	free(l.seen);
	free(l.fresh);
	free(l.fresh_at);
	return rc;
}

uint32_t hw_debug_registers(struct hw_device *dev, uint32_t *offs, uint32_t *vals, uint32_t max)
{
	static const uint32_t regs[] = {
		HW_REG_ID, HW_REG_REV, HW_REG_VRAM_SIZE_LO, HW_REG_VRAM_SIZE_HI,
		HW_REG_VISIBLE_SIZE_LO, HW_REG_VISIBLE_SIZE_HI, HW_REG_GART_SIZE_LO,
		HW_REG_GART_SIZE_HI, HW_REG_GART_BASE_LO, HW_REG_GART_BASE_HI,
		HW_REG_SYSMEM_SIZE_LO, HW_REG_SYSMEM_SIZE_HI, HW_REG_GART_CTRL,
		HW_REG_GART_TABLE_LO, HW_REG_GART_TABLE_HI, HW_REG_IRQ_STATUS, HW_REG_IRQ_MASK,
		HW_REG_FAULT_ADDR_LO, HW_REG_FAULT_ADDR_HI, HW_REG_FAULT_CAUSE, HW_REG_FAULT_RING,
		HW_REG_CLOCK_LO, HW_REG_CLOCK_HI, HW_REG_STATUS,
	};
	static const uint32_t ring_regs[] = {
		HW_RING_BASE_LO, HW_RING_BASE_HI, HW_RING_SIZE, HW_RING_RPTR, HW_RING_WPTR,
		HW_RING_CTRL, HW_RING_STATUS, HW_RING_FENCE_LO, HW_RING_FENCE_HI,
	};
	uint32_t total = (uint32_t)(sizeof(regs) / sizeof(regs[0]) +
				    HW_NUM_RINGS * sizeof(ring_regs) / sizeof(ring_regs[0]));
	/* Looking must not change what is looked at: the CLOCK_HI latch is put back,
	 * and a removed device is read as it was before it went. */
	uint32_t latch = dev->clock_hi_latch;
	bool removed = dev->removed;
	dev->removed = false;
	uint32_t n = 0;
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++, n++)
		if (n < max) {
			offs[n] = regs[i];
			vals[n] = regs[i] == HW_REG_CLOCK_HI ? (uint32_t)(dev->now >> 32)
							     : hw_mmio_read(dev, regs[i]);
		}
	for (unsigned r = 0; r < HW_NUM_RINGS; r++)
		for (size_t i = 0; i < sizeof(ring_regs) / sizeof(ring_regs[0]); i++, n++)
			if (n < max) {
				offs[n] = HW_REG_RING(r, ring_regs[i]);
				vals[n] = hw_mmio_read(dev, offs[n]);
			}
	dev->removed = removed;
	dev->clock_hi_latch = latch;
	return total;
}

void *hw_debug_sysmem(struct hw_device *dev, uint64_t pfn, uint64_t n)
{
	if (pfn > dev->sysmem.pages || n > dev->sysmem.pages - pfn)
		return NULL;
	return dev->sysmem.base + (pfn << HW_PAGE_SHIFT);
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	for (size_t i = 0; i < HW_PAGE_SIZE / 8; i += 8)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7])
			return false;
	return true;
}

int hw_debug_populated(struct hw_device *dev, int space,
		       int (*fn)(void *opaque, uint64_t off, uint64_t len), void *opaque)
{
	uint8_t *base = space ? dev->sysmem.base : dev->vram.base;
	uint64_t pages = space ? dev->sysmem.pages : dev->vram.size >> HW_PAGE_SHIFT;
	/* mincore says which pages the host ever committed: a 16 GiB VRAM with 1 GiB
	 * used is scanned in the time it takes to read 1 GiB, not 16. A committed
	 * page may still hold only zeros (read, or written with zeros): those are left
	 * out too, so that the ranges depend on the contents alone. */
	enum { CHUNK = 16384 };
	unsigned char vec[CHUNK];
	uint64_t run_start = 0, run_len = 0;
	for (uint64_t p = 0; p < pages; p += CHUNK) {
		uint64_t n = pages - p < CHUNK ? pages - p : CHUNK;
		bool have_vec = mincore(base + (p << HW_PAGE_SHIFT), n << HW_PAGE_SHIFT, vec) == 0;
		for (uint64_t i = 0; i < n; i++) {
			bool data = (!have_vec || (vec[i] & 1)) &&
				    !page_is_zero(base + ((p + i) << HW_PAGE_SHIFT));
			if (data) {
				if (!run_len)
					run_start = p + i;
				run_len++;
				continue;
			}
			if (run_len) {
				int rc = fn(opaque, run_start << HW_PAGE_SHIFT, run_len << HW_PAGE_SHIFT);
				if (rc)
					return rc;
				run_len = 0;
			}
		}
	}
	if (run_len)
		return fn(opaque, run_start << HW_PAGE_SHIFT, run_len << HW_PAGE_SHIFT);
	return 0;
}
