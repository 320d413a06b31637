/*
 * The table of the device's state (hw/vmstate.c): it is sound, it covers every
 * member of struct hw_device, every field survives save and load, and a bad,
 * unknown or missing field is refused with its name, the device unchanged.
 */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/hwstate.h>
#include "hw/hw_internal.h"
#include "hw/vmstate.h"
#include "tests/hw/helpers.h"
#include "tests/hw/hw_suites.h"

#define CFG "vram=4M,visible=2M,gart=1M,sysmem=8M,tlb=16"

#define FOR_EACH_FIELD(sec, inst, f)                                                               \
	for (const struct hw_vms_section *sec = hw_vms_sections; sec < hw_vms_sections + hw_vms_nsections; \
	     sec++)                                                                                    \
		for (unsigned inst = 0; inst < sec->count; inst++)                                     \
			for (const struct hw_vms_field *f = sec->fields; f < sec->fields + sec->nfields; f++)

static unsigned width(uint32_t type)
{
	switch (type & HW_STATE_TYPE_MASK) {
	case HW_STATE_U32: return 4;
	case HW_STATE_U64: return 8;
	default: return 1;
	}
}

START_TEST(test_table_is_sound)
{
	char names[256][HW_STATE_NAME_MAX + 1];
	size_t n = 0;
	FOR_EACH_FIELD(sec, inst, f) {
		ck_assert_uint_lt(n, 256);
		hw_vms_name(sec, inst, f, names[n], sizeof(names[n]));
		ck_assert_msg(strlen(names[n]) < HW_STATE_NAME_MAX, "%s: name too long", names[n]);
		for (size_t k = 0; k < n; k++)
			ck_assert_msg(strcmp(names[k], names[n]), "%s is declared twice", names[n]);
		ck_assert_msg(f->since >= 1 && f->since <= HW_STATE_VERSION, "%s: since %u", names[n], f->since);
		if (f->array)
			ck_assert_msg(f->size == sizeof(void *), "%s: not a pointer", names[n]);
		else
			ck_assert_msg(f->size == ((f->type & HW_STATE_TYPE_MASK) == HW_STATE_BOOL ? sizeof(bool)
											  : width(f->type)),
				      "%s: member of %zu bytes declared as type %u", names[n], f->size, f->type);
		n++;
	}
}
END_TEST

/* Every member of struct hw_device is in exactly one table field or one declared
 * unsaved member: a member added to the device (or to the rings, the GART, ...)
 * without a line in the table fails here. A byte that nothing claims must be
 * alignment padding: a run shorter than the alignment its end has (at most 8).
 * (GCC 12's __builtin_clear_padding misses some of this struct's padding, so the
 * padding is inferred; a forgotten member narrower than the padding it would
 * leave could hide, any other cannot.) */
START_TEST(test_every_member_is_declared)
{
	static uint8_t claimed[sizeof(struct hw_device)];
	static const char *by[sizeof(struct hw_device)];
	FOR_EACH_FIELD(sec, inst, f) {
		size_t off = hw_vms_offset(sec, inst, f);
		for (size_t b = off; b < off + f->size; b++) {
			/* Fields of one array share its pointer. */
			ck_assert_msg(!claimed[b] || f->array, "byte %zu of the device is in two fields (%s)", b,
				      f->name);
			claimed[b] = 1;
			by[b] = f->name;
		}
	}
	for (size_t i = 0; i < hw_vms_nunsaved; i++) {
		const struct hw_vms_unsaved *u = &hw_vms_unsaved[i];
		ck_assert_msg(u->why && u->why[0], "%s: say why it is not saved", u->name);
		for (size_t b = u->offset; b < u->offset + u->size; b++) {
			ck_assert_msg(!claimed[b], "%s is saved and declared unsaved", u->name);
			claimed[b] = 1;
			by[b] = u->name;
		}
	}
	for (size_t b = 0; b < sizeof(struct hw_device);) {
		if (claimed[b]) {
			b++;
			continue;
		}
		size_t e = b;
		while (e < sizeof(struct hw_device) && !claimed[e])
			e++;
		size_t align = 8;
		while (align > 1 && e % align)
			align /= 2;
		ck_assert_msg(e - b < align,
			      "bytes %zu..%zu of struct hw_device (after %s) are in no field of hw/vmstate.c "
			      "and not in hw_vms_unsaved: declare the member", b, e - 1, b ? by[b - 1] : "nothing");
		b = e;
	}
	/* The elements of arrays: their fields cover each element whole. */
	FOR_EACH_FIELD(sec, inst, f) {
		if (!f->array)
			continue;
		uint8_t elem[64] = { 0 };
		ck_assert_uint_le(f->array->stride, sizeof(elem));
		for (const struct hw_vms_field *g = sec->fields; g < sec->fields + sec->nfields; g++)
			if (g->array && g->offset == f->offset)
				memset(elem + g->array->member, 1, width(g->type));
		for (size_t b = 0; b < f->array->stride; b++)
			ck_assert_msg(elem[b], "byte %zu of an element of %s is in no field", b, f->name);
	}
}
END_TEST

/* A value for element k of a field that its rule accepts, distinct where the rule
 * allows: the candidates cover the table's kinds of rules. */
static uint64_t pick(const struct hw_device *d, unsigned inst, const struct hw_vms_field *f, uint64_t k,
		     uint64_t dd)
{
	uint64_t c[8];
	int n = 0;
	c[n++] = dd;
	if (f->bits) {
		int bits = __builtin_popcountll(f->bits), want = (int)(dd % (uint64_t)bits);
		uint64_t b = f->bits;
		while (want--)
			b &= b - 1;
		c[n++] = b & -b;
	}
	if (f->align)
		c[n++] = dd * f->align;
	if (f->max)
		c[n++] = 1 + dd % f->max;
	c[n++] = 16 + 4 * dd;
	c[n++] = 4 * (1 + dd % 3);
	c[n++] = 1;
	c[n++] = k; /* a direct-mapped slot's own page */
	char why[160];
	for (int i = 0; i < n; i++)
		if (hw_vms_field_ok(d, inst, f, k, c[i], why, sizeof(why)))
			return c[i];
	ck_abort_msg("no candidate passes the rule of %s (%s): give pick() one", f->name, why);
	return 0;
}

static const struct hw_vms_field *by_name(const char *name, const struct hw_vms_section **psec,
					  unsigned *pinst)
{
	FOR_EACH_FIELD(sec, inst, f) {
		char buf[HW_STATE_NAME_MAX + 1];
		hw_vms_name(sec, inst, f, buf, sizeof(buf));
		if (!strcmp(buf, name)) {
			*psec = sec;
			*pinst = inst;
			return f;
		}
	}
	ck_abort_msg("no field %s", name);
	return NULL;
}

static void set(struct hw_device *d, const char *name, uint64_t k, uint64_t v)
{
	const struct hw_vms_section *sec;
	unsigned inst;
	const struct hw_vms_field *f = by_name(name, &sec, &inst);
	hw_vms_put(d, sec, inst, f, k, v);
}

START_TEST(test_every_field_round_trips)
{
	struct hw_device *a = ht_device(CFG), *b = ht_device(CFG);
	uint64_t dd = 1;
	FOR_EACH_FIELD(sec, inst, f) {
		if (f->array && f->array->set_count) {
			/* Three elements in every variable-length array. */
			void *p = calloc(3, f->array->stride), *old;
			ck_assert_ptr_nonnull(p);
			size_t at = hw_vms_offset(sec, inst, f);
			memcpy(&old, (uint8_t *)a + at, sizeof(old));
			free(old);
			memcpy((uint8_t *)a + at, &p, sizeof(p));
			f->array->set_count(a, 3);
		}
		for (uint64_t k = 0; k < hw_vms_count(a, f); k++)
			hw_vms_put(a, sec, inst, f, k, pick(a, inst, f, k, dd++));
	}
	/* The system-page books are checked together: make them add up. */
	set(a, "sysmem.next_fresh", 0, 300);
	set(a, "sysmem.free", 0, 17);
	set(a, "sysmem.free", 1, 250);
	set(a, "sysmem.free", 2, 3);
	set(a, "sysmem.used", 0, 297);
	set(a, "sysmem.reserved", 0, 41);

	uint8_t *sa, *sb;
	size_t la, lb;
	char err[256] = "";
	ck_assert_int_eq(hw_device_save_state(a, &sa, &la), 0);
	int rc = hw_device_load_state(b, sa, la, err, sizeof(err));
	ck_assert_msg(rc == 0, "load: %d %s", rc, err);
	FOR_EACH_FIELD(sec, inst, f) {
		char name[HW_STATE_NAME_MAX + 1];
		hw_vms_name(sec, inst, f, name, sizeof(name));
		ck_assert_uint_eq(hw_vms_count(a, f), hw_vms_count(b, f));
		for (uint64_t k = 0; k < hw_vms_count(a, f); k++)
			ck_assert_msg(hw_vms_get(a, sec, inst, f, k) == hw_vms_get(b, sec, inst, f, k),
				      "%s[%llu] differs after a round trip", name, (unsigned long long)k);
		size_t off = hw_vms_offset(sec, inst, f);
		if (!f->array)
			ck_assert_msg(!memcmp((uint8_t *)a + off, (uint8_t *)b + off, f->size), "%s", name);
	}
	/* And the device saves what it loaded, byte for byte. */
	ck_assert_int_eq(hw_device_save_state(b, &sb, &lb), 0);
	ck_assert_uint_eq(la, lb);
	ck_assert(!memcmp(sa, sb, la));
	ck_assert(hw_device_removed(b));
	free(sa);
	free(sb);
	hw_device_destroy(a);
	hw_device_destroy(b);
}
END_TEST

/* ---- refusals ------------------------------------------------------------------ */

static void put_le(uint8_t *p, uint64_t v, unsigned w)
{
	for (unsigned k = 0; k < w; k++)
		p[k] = (uint8_t)(v >> (8 * k));
}

/* A copy of `st` with value k of field `name` set to v. */
static uint8_t *with_value(const uint8_t *st, size_t len, const char *name, uint64_t k, uint64_t v)
{
	uint8_t *c = malloc(len);
	memcpy(c, st, len);
	struct hw_state_item it;
	ck_assert_int_eq(hw_state_find(c, len, name, &it), 0);
	ck_assert_uint_lt(k, it.count);
	unsigned w = width(it.type);
	put_le(c + (it.values - c) + k * w, v, w);
	return c;
}

static struct hw_device *worked_device(void)
{
	struct hw_device *dev = ht_device(CFG);
	struct ht_ring r;
	ht_ring_init(&r, dev, 0, HT_RING0, HT_RING_SIZE, 0);
	ht_fill(&r, 0x100000, 64 * 1024, 0xabcdef01u);
	ht_fence(&r, 0x200000, 7, HW_PKT_FENCE_IRQ);
	ht_submit(&r);
	hw_run_idle(dev);
	uint64_t p, q;
	ck_assert_int_eq(hw_sysmem_alloc(dev, &p), 0);
	ck_assert_int_eq(hw_sysmem_alloc(dev, &q), 0);
	hw_sysmem_free(dev, p);
	return dev;
}

/* Load `st` into b: refused with a sentence holding `word`, b as it was. */
static void refused(struct hw_device *b, const uint8_t *st, size_t len, const char *word)
{
	uint8_t *before, *after;
	size_t lb, la;
	ck_assert_int_eq(hw_device_save_state(b, &before, &lb), 0);
	char err[256] = "";
	ck_assert_int_eq(hw_device_load_state(b, st, len, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, word) != NULL, "expected \"%s\" in: %s", word, err);
	ck_assert_int_eq(hw_device_save_state(b, &after, &la), 0);
	ck_assert_uint_eq(la, lb);
	ck_assert_msg(!memcmp(before, after, la), "a refused load changed the device (%s)", err);
	free(before);
	free(after);
}

START_TEST(test_bad_field_refused_unchanged)
{
	struct hw_device *a = worked_device(), *b = ht_device(CFG);
	uint8_t *st;
	size_t len;
	ck_assert_int_eq(hw_device_save_state(a, &st, &len), 0);
	static const struct {
		const char *name;
		uint64_t k, v;
		const char *word;
	} cases[] = {
		{ "ring0.size", 0, 6, "field ring0.size: 6 is neither" },
		{ "ring0.wptr", 0, HT_RING_SIZE, "field ring0.wptr: 4096 is not below the ring's size" },
		{ "ring1.base", 0, 3, "field ring1.base: 0x3 is not a multiple of 4" },
		{ "gart.ctrl", 0, 0x10, "field gart.ctrl: 0x10 has bits outside 0x3" },
		{ "gart.table", 0, 4 << 20, "field gart.table: 0x400000 is not a page of VRAM" },
		{ "gart.tlb.page", 5, 6, "field gart.tlb.page[5]: caches aperture page 6" },
		{ "fault.cause", 0, 99, "field fault.cause: 99 is above 19" },
		{ "fault.ring", 0, 2, "field fault.ring" },
		{ "irq.mask", 0, 1u << 20, "field irq.mask" },
		{ "removed", 0, 2, "field removed: boolean 2" },
		{ "sysmem.used", 0, 1000, "sysmem.used: the system-page books do not add up" },
		{ "sysmem.free", 0, 1000, "sysmem.free" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *c = with_value(st, len, cases[i].name, cases[i].k, cases[i].v);
		refused(b, c, len, cases[i].word);
		free(c);
	}
	/* Cut short anywhere: refused, never read past the end. */
	for (size_t cut = 0; cut < len; cut += 1 + cut / 8)
		refused(b, st, cut, "device state");
	/* The free list has one page; a type of the wrong kind, a count that lies. */
	struct hw_state_item it;
	ck_assert_int_eq(hw_state_find(st, len, "clock.now", &it), 0);
	uint8_t *c = malloc(len);
	memcpy(c, st, len);
	put_le(c + (it.values - st) - 12, HW_STATE_U32, 4);
	refused(b, c, len, "clock.now");
	memcpy(c, st, len);
	put_le(c + (it.values - st) - 8, 2, 8);
	refused(b, c, len, "clock.now");
	free(c);
	free(st);
	hw_device_destroy(a);
	hw_device_destroy(b);
}
END_TEST

/* A field this gpusim does not know (a newer writer's): refused with its name. */
START_TEST(test_unknown_field_refused)
{
	struct hw_device *a = worked_device(), *b = ht_device(CFG);
	uint8_t *st;
	size_t len;
	ck_assert_int_eq(hw_device_save_state(a, &st, &len), 0);
	static const char name[] = "mmu.ring0.ptbr";
	size_t nl = sizeof(name) - 1, rec = 4 + 4 + nl + 4 + 8 + 8;
	uint8_t *c = malloc(len + rec);
	memcpy(c, st, len);
	put_le(c, HW_STATE_VERSION + 1, 4);
	put_le(c + 4, (uint64_t)(st[4] | st[5] << 8) + 1, 4);
	uint8_t *p = c + len;
	put_le(p, rec - 4, 4);
	put_le(p + 4, nl, 4);
	memcpy(p + 8, name, nl);
	put_le(p + 8 + nl, HW_STATE_U64 | HW_STATE_HEX, 4);
	put_le(p + 12 + nl, 1, 8);
	put_le(p + 20 + nl, 0x123000, 8);
	/* A reader that only looks (inspect) sees it. */
	struct hw_state_item it;
	ck_assert_int_eq(hw_state_find(c, len + rec, name, &it), 0);
	ck_assert_uint_eq(hw_state_item_value(&it, 0), 0x123000);
	ck_assert(it.hex);
	refused(b, c, len + rec, "has field mmu.ring0.ptbr, which this gpusim does not know");
	/* Twice the same field. */
	memcpy(c, st, len);
	put_le(c + 4, (uint64_t)(st[4] | st[5] << 8) + 1, 4);
	ck_assert_int_eq(hw_state_find(st, len, "stats.irqs", &it), 0);
	size_t at = (size_t)(it.values - st) - 16 - strlen("stats.irqs") - 4;
	memcpy(c + len, st + at, 4 + 4 + 10 + 4 + 8 + 8);
	refused(b, c, len + 38, "field stats.irqs appears twice");
	free(c);
	free(st);
	hw_device_destroy(a);
	hw_device_destroy(b);
}
END_TEST

/* A field of the state's own version that is missing is refused (one newer than
 * the state would keep the device's value: hw/STATE.md). */
START_TEST(test_missing_field_refused)
{
	struct hw_device *a = worked_device(), *b = ht_device(CFG);
	uint8_t *st;
	size_t len;
	ck_assert_int_eq(hw_device_save_state(a, &st, &len), 0);
	struct hw_state_item it;
	ck_assert_int_eq(hw_state_find(st, len, "fault.addr", &it), 0);
	size_t rec = 4 + 4 + strlen("fault.addr") + 4 + 8 + 8;
	size_t at = (size_t)(it.values - st) + 8 - rec;
	uint8_t *c = malloc(len);
	memcpy(c, st, at);
	memcpy(c + at, st + at + rec, len - at - rec);
	put_le(c + 4, (uint64_t)(st[4] | st[5] << 8) - 1, 4);
	refused(b, c, len - rec, "lacks field fault.addr");
	free(c);
	free(st);
	hw_device_destroy(a);
	hw_device_destroy(b);
}
END_TEST

/* The engines' TLB lines: a live line sits in the set of its group, once, and
 * caches VALID entries only; dead lines may hold anything. A version-2 state's
 * direct-mapped slots are a field this gpusim does not know. */
START_TEST(test_tlb_lines_refused)
{
	struct hw_device *a = ht_device(CFG), *b = ht_device(CFG);
	struct hw_mmu_tlb *t = &a->mmu.tlb[1];
	const uint64_t vline = 0x123456789ull;
	const uint32_t set = hw_mmu_tlb_set(t, vline), other = (set + 1) % t->sets;
	uint8_t *st;
	size_t len;
	ck_assert_uint_eq(t->ways, 4);
	ck_assert_uint_gt(t->sets, 1);

	/* Well placed in way 2 of its set: loads, and b serves it as a holds it. */
	size_t at = (size_t)set * t->ways + 2;
	t->line[at] = (struct hw_mmu_tlb_line){ .vline = vline, .gen = t->gen, .asid = 7, .valid = 0x81 };
	t->pte[at * HW_MMU_LINE_PTES] = HW_PTE_LOCAL(0x5000, HW_PTE_VALID);
	t->pte[at * HW_MMU_LINE_PTES + 7] = HW_PTE_LOCAL(0x9000, HW_PTE_VALID | HW_PTE_READ_ONLY);
	t->pte[at * HW_MMU_LINE_PTES + 3] = 0xdead000; /* not cached: anything */
	ck_assert_int_eq(hw_device_save_state(a, &st, &len), 0);
	char err[256] = "";
	ck_assert_msg(hw_device_load_state(b, st, len, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(memcmp(&b->mmu.tlb[1].line[at], &t->line[at], sizeof(*t->line)), 0);
	ck_assert_int_eq(memcmp(&b->mmu.tlb[1].pte[at * HW_MMU_LINE_PTES], &t->pte[at * HW_MMU_LINE_PTES],
				HW_MMU_LINE_PTES * 8), 0);
	free(st);

	/* In another set. */
	size_t wrong = (size_t)other * t->ways;
	t->line[wrong] = t->line[at];
	memset(&t->line[at], 0, sizeof(*t->line));
	ck_assert_int_eq(hw_device_save_state(a, &st, &len), 0);
	refused(b, st, len, "field vmtlb1.line.valid");
	refused(b, st, len, "belongs in set");
	free(st);
	/* Twice in its set (a dead copy would do no harm: gen 0 is never live). */
	t->line[wrong] = (struct hw_mmu_tlb_line){ 0 };
	t->line[set * t->ways] = (struct hw_mmu_tlb_line){ .vline = vline, .gen = t->gen, .asid = 7, .valid = 1 };
	t->line[at] = t->line[set * t->ways];
	t->pte[set * t->ways * HW_MMU_LINE_PTES] = HW_PTE_VALID;
	ck_assert_int_eq(hw_device_save_state(a, &st, &len), 0);
	refused(b, st, len, "is also in way 0");
	free(st);
	t->line[set * t->ways].gen = 0;
	ck_assert_int_eq(hw_device_save_state(a, &st, &len), 0);
	ck_assert_msg(hw_device_load_state(b, st, len, err, sizeof(err)) == 0, "%s", err);
	free(st);
	/* A cached entry that is not VALID. */
	t->pte[at * HW_MMU_LINE_PTES] = HW_PTE_LOCAL(0x5000, 0);
	ck_assert_int_eq(hw_device_save_state(a, &st, &len), 0);
	char word[64];
	snprintf(word, sizeof(word), "field vmtlb1.line.pte[%zu]", at * HW_MMU_LINE_PTES);
	refused(b, st, len, word);
	refused(b, st, len, "is cached but not VALID");
	free(st);

	/* A version-2 state: its TLB fields are unknown here, named in the refusal. */
	t->pte[at * HW_MMU_LINE_PTES] = HW_PTE_LOCAL(0x5000, HW_PTE_VALID);
	ck_assert_int_eq(hw_device_save_state(a, &st, &len), 0);
	static const char name[] = "vmtlb0.vpn";
	size_t nl = sizeof(name) - 1, rec = 4 + 4 + nl + 4 + 8; /* no values */
	uint8_t *c = malloc(len + rec);
	memcpy(c, st, len);
	put_le(c, 2, 4);
	put_le(c + 4, (uint64_t)(st[4] | st[5] << 8) + 1, 4);
	uint8_t *p = c + len;
	put_le(p, rec - 4, 4);
	put_le(p + 4, nl, 4);
	memcpy(p + 8, name, nl);
	put_le(p + 8 + nl, HW_STATE_U64 | HW_STATE_HEX | HW_STATE_ARRAY, 4);
	put_le(p + 12 + nl, 0, 8);
	refused(b, c, len + rec, "has field vmtlb0.vpn, which this gpusim does not know (the state is version 2");
	free(c);
	free(st);
	hw_device_destroy(a);
	hw_device_destroy(b);
}
END_TEST

static int count_item(void *opaque, const struct hw_state_item *it)
{
	(void)it;
	++*(size_t *)opaque;
	return 0;
}

/* A walk without a device lists every field of the table. */
START_TEST(test_walk_lists_every_field)
{
	struct hw_device *a = worked_device();
	uint8_t *st;
	size_t len, n = 0, want = 0;
	uint32_t version = 0;
	ck_assert_int_eq(hw_device_save_state(a, &st, &len), 0);
	ck_assert_int_eq(hw_state_walk(st, len, &version, count_item, &n, NULL, 0), 0);
	FOR_EACH_FIELD(sec, inst, f)
		want++;
	ck_assert_uint_eq(version, HW_STATE_VERSION);
	ck_assert_uint_eq(n, want);
	struct hw_state_item it;
	ck_assert_int_eq(hw_state_find(st, len, "ring0.fence", &it), 0);
	ck_assert_uint_eq(hw_state_item_value(&it, 0), 7);
	ck_assert_int_eq(hw_state_find(st, len, "no.such", &it), -ENOENT);
	ck_assert_int_eq(hw_state_find(st, len, "gart.tlb.page", &it), 0);
	ck_assert_uint_eq(it.count, 16);
	free(st);
	hw_device_destroy(a);
}
END_TEST

Suite *hw_vmstate_suite(void)
{
	Suite *s = suite_create("hw_vmstate");
	TCase *tc = tcase_create("table");
	tcase_add_test(tc, test_table_is_sound);
	tcase_add_test(tc, test_every_member_is_declared);
	tcase_add_test(tc, test_every_field_round_trips);
	tcase_add_test(tc, test_bad_field_refused_unchanged);
	tcase_add_test(tc, test_unknown_field_refused);
	tcase_add_test(tc, test_missing_field_refused);
	tcase_add_test(tc, test_tlb_lines_refused);
	tcase_add_test(tc, test_walk_lists_every_field);
	suite_add_tcase(s, tc);
	return s;
}
