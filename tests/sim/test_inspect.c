/*
 * Snapshots for people: `gpusim inspect`'s text report and JSON document
 * (sim/inspect.c), the register names (hw/regnames.c) and the viewer's recording
 * of a snapshot (sim/view/snapshot.c), all from snapshots built by hand here.
 */
#include <config.h>

#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/hwstate.h>
#include <gpusim/snapshot.h>

#include "sim/inspect.h"
#include "sim/view/model.h"
#include "tests/sim/sim_suites.h"
#include "tests/sim/snap_fixture.h"

/* ---- output helpers ------------------------------------------------------------ */

/* What a printer wrote, NUL-terminated; the printer's result in *rc. */
static char *capture(int (*fn)(FILE *, const struct gpusim_snapshot *), const struct gpusim_snapshot *s, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	*rc = fn(f, s);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

/* The first line of text (from *from on) that holds every fragment, in order;
 * NULL-terminated list. Its start, or NULL. */
static const char *line_with(const char *text, ...)
{
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, len);
		ck_assert_ptr_nonnull(copy);
		va_list ap;
		va_start(ap, text);
		const char *at = copy, *frag;
		bool all = true;
		while ((frag = va_arg(ap, const char *)) != NULL) {
			const char *hit = strstr(at, frag);
			if (!hit) {
				all = false;
				break;
			}
			at = hit + strlen(frag);
		}
		va_end(ap);
		free(copy);
		if (all)
			return line;
		line = end ? end + 1 : NULL;
	}
	return NULL;
}

/* One line comes before another in the output. */
#define ck_before(a, b) ck_assert_msg((a) < (b), "'%.40s' is not before '%.40s'", (a), (b))

#define ck_line(text, ...)                                                                         \
	do {                                                                                       \
		const char *l_ = line_with((text), __VA_ARGS__, (const char *)NULL);               \
		ck_assert_msg(l_ != NULL, "no line with the fragments of: %s\n---\n%s", #__VA_ARGS__, (text)); \
	} while (0)

static const char *must_line(const char *text, const char *a, const char *b)
{
	const char *l = line_with(text, a, b, (const char *)NULL);
	ck_assert_msg(l != NULL, "no line with '%s' then '%s' in\n%s", a, b, text);
	return l;
}

/* ---- register names ------------------------------------------------------------- */

START_TEST(test_reg_names)
{
	ck_assert_str_eq(hw_reg_name(HW_REG_ID), "ID");
	ck_assert_str_eq(hw_reg_name(HW_REG_VRAM_SIZE_HI), "VRAM_SIZE_HI");
	ck_assert_str_eq(hw_reg_name(HW_REG_TLB_INVALIDATE), "TLB_INVALIDATE");
	ck_assert_str_eq(hw_reg_name(HW_REG_FAULT_CAUSE), "FAULT_CAUSE");
	ck_assert_str_eq(hw_reg_name(HW_REG_CLOCK_LO), "CLOCK_LO");
	ck_assert_str_eq(hw_reg_name(HW_REG_STATUS), "STATUS");
	ck_assert_str_eq(hw_reg_name(HW_REG_RING(0, HW_RING_BASE_LO)), "RING0.BASE_LO");
	ck_assert_str_eq(hw_reg_name(HW_REG_RING(1, HW_RING_WPTR)), "RING1.WPTR");
	ck_assert_str_eq(hw_reg_name(HW_REG_RING(1, HW_RING_FENCE_HI)), "RING1.FENCE_HI");
	ck_assert_str_eq(hw_reg_name(HW_REG_RING(0, HW_RING_DOORBELL)), "RING0.DOORBELL");
	/* Holes, past the last ring, inside a ring's block past FENCE_HI, unaligned. */
	ck_assert_ptr_null(hw_reg_name(0x008));
	ck_assert_ptr_null(hw_reg_name(0x0f0));
	ck_assert_ptr_null(hw_reg_name(HW_REG_RING(HW_NUM_RINGS, 0)));
	ck_assert_ptr_null(hw_reg_name(HW_REG_RING(0, HW_RING_FENCE_HI + 4)));
	ck_assert_ptr_null(hw_reg_name(HW_REG_ID + 2));
	ck_assert_ptr_null(hw_reg_name(0xffffffffu));
	/* Every name is different: a copy-paste slip in the table shows here. */
	const char *seen[256];
	size_t n = 0;
	for (uint32_t off = 0; off < 0x400; off += 4) {
		const char *name = hw_reg_name(off);
		if (!name)
			continue;
		for (size_t i = 0; i < n; i++)
			ck_assert_msg(strcmp(seen[i], name), "0x%x repeats the name %s", off, name);
		ck_assert_uint_lt(n, 256);
		seen[n++] = name;
	}
	ck_assert_uint_eq(n, 33 + HW_NUM_RINGS * 15); /* with the GPU MMU's registers */
}
END_TEST

/* ---- text ----------------------------------------------------------------------- */

START_TEST(test_text_report)
{
	struct fx *f = fx_new();
	int rc;
	char *t = capture(inspect_text, &f->s, &rc);
	ck_assert_int_eq(rc, 0);

	ck_line(t, "snapshot version 1", "1234567 ns", "1.234567 ms");
	ck_line(t, "  vram ", "256M");
	ck_line(t, "  visible ", "64M");
	ck_line(t, "  gart ", "512M");
	ck_line(t, "  sysmem ", "2G");
	ck_line(t, "  gart_base ", "0x10000000000");
	ck_line(t, "  policy ", "arc");
	ck_line(t, "  seed ", "7");
	ck_line(t, "  evictions ", "9");
	ck_line(t, "  bytes_out ", "5M");
	ck_line(t, "  usage.local ", "3M", "budget.local", "240M");
	ck_line(t, "  commit_pages ", "1536", "(6M)");
	ck_line(t, "  invisible ", "192M", "2M", "190M", "1");

	/* Registers by name, values in hex; an offset without a register says so. */
	ck_line(t, "registers (6)");
	ck_line(t, "0x000", "ID", "0x47505553");
	ck_line(t, "0x040", "GART_CTRL", "0x00000001");
	ck_line(t, "0x150", "RING1.WPTR", "0x00000080");
	ck_line(t, "0x0f0", "(unknown)", "0xdeadbeef");

	/* GART entries coalesced into runs. */
	ck_line(t, "GART mappings: 8 valid entries in 4 runs", "GPU 0x10000000000");
	ck_line(t, "aperture pages 0x0..0x3", "-> system pages 0x100..0x103", "RW", "4 pages (16K)");
	ck_line(t, "aperture page ", "0x4 ", "-> system page ", "0x104 ", "R-", "1 page (4K)");
	ck_line(t, "aperture pages 0x5..0x6", "-> system pages 0x200..0x201", "RW", "2 pages (8K)");
	ck_line(t, "aperture page ", "0x9 ", "-> system page ", "0x202 ", "RW");

	/* The table by segment then offset: visible 0x0, visible 0x100000, invisible,
	 * gart, sys. */
	ck_line(t, "allocations (5), by segment and offset");
	const char *tex0 = must_line(t, "0x40000081  tex0", "visible");
	ck_line(tex0, "0x40000081  tex0 ", "0x40000041", "1M", "visible", "0x100000", "0x100000", "high",
		"cpu,pinned", "1", "2");
	const char *anon = must_line(t, "0x40000141  -", "visible");
	const char *rt1 = must_line(t, "0x40000041  rt1", "invisible");
	const char *ui0 = must_line(t, "0x400000c1  ui0", "gart");
	ck_line(ui0, "ui0", "0x40000081", "1M", "gart", "0x4000", "0x10000004000", "normal", "-");
	const char *evicted = must_line(t, "0x40000101  evicted", "sys");
	ck_line(evicted, "evicted", "64K", "sys", "-", "-", "0x12345678");
	ck_before(anon, tex0);
	ck_before(tex0, rt1);
	ck_before(rt1, ui0);
	ck_before(ui0, evicted);

	ck_line(t, "memory ranges (2), 16K populated");
	ck_line(t, "  vram  0x100000", "8K");
	ck_line(t, "  sys   page 0x100", "bus 0x1000000100000", "8K");

	ck_line(t, "recent events (4), oldest first");
	const char *create = must_line(t, "1000 ns] create", "0x40000141");
	const char *evict = must_line(t, "2000 ns] evict", "0x40000101 evicted");
	ck_line(evict, "invisible at 0x300000 -> sys", "copied 64K", "cause pressure");
	const char *fault = must_line(t, "4000 ns] fault", "GPU address 0x10000007000");
	ck_line(fault, "cause gart-invalid");
	ck_line(t, "3000 ns] submit", "device 0x40000041", "fence 17");
	ck_before(create, evict);
	ck_before(evict, fault);
	free(t);
	free(f);
}
END_TEST

/* The same snapshot gives the same bytes; events stored out of time order are
 * printed in time order, equal times in the stored order. */
START_TEST(test_text_deterministic_and_time_ordered)
{
	struct fx *f = fx_new();
	int rc;
	char *a = capture(inspect_text, &f->s, &rc);
	char *b = capture(inspect_text, &f->s, &rc);
	ck_assert_str_eq(a, b);
	free(b);

	struct gpusim_event tmp = f->events[0];
	f->events[0] = f->events[3];
	f->events[3] = tmp;
	f->events[2].time_ns = f->events[1].time_ns; /* submit ties with evict, stored after it */
	char *c = capture(inspect_text, &f->s, &rc);
	ck_assert_int_eq(rc, 0);
	const char *create = must_line(c, "1000 ns] create", "0x40000141");
	const char *evict = must_line(c, "2000 ns] evict", "evicted");
	const char *submit = must_line(c, "2000 ns] submit", "fence 17");
	const char *fault = must_line(c, "4000 ns] fault", "gart-invalid");
	ck_before(create, evict);
	ck_before(evict, submit);
	ck_before(submit, fault);
	/* The input is not reordered. */
	ck_assert_uint_eq(f->events[0].type, GPUSIM_EV_FAULT);
	free(a);
	free(c);
	free(f);
}
END_TEST

/* Names are bytes from a file: nothing that is not printable reaches a terminal,
 * and a name that fills its array (no NUL) is read no further. */
START_TEST(test_text_hostile_names)
{
	struct fx *f = fx_new();
	memcpy(f->allocs[0].name, "a\033[2Jb\n\x80", 9);
	memset(f->allocs[2].name, 'x', sizeof(f->allocs[2].name)); /* no NUL */
	memset(f->s.cfg.policy, 'p', sizeof(f->s.cfg.policy));
	f->allocs[4].flags = GPUSIM_ALLOC_PRIMARY | 0x80; /* a bit without a name */
	int rc;
	char *t = capture(inspect_text, &f->s, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_null(strchr(t, '\033'));
	ck_assert_ptr_null(strstr(t, "\x80"));
	ck_line(t, "0x40000041  a?[2Jb??", "invisible");
	ck_line(t, "0x40000141  -", "visible", "primary,0x80 ");
	char want[GPUSIM_SNAPSHOT_NAME_MAX + 16];
	memset(want, 'x', GPUSIM_SNAPSHOT_NAME_MAX);
	snprintf(want + GPUSIM_SNAPSHOT_NAME_MAX, 16, "  0x4");
	ck_line(t, want, "gart");
	const char *pol = must_line(t, "  policy ", "pppppppppppppppp");
	ck_assert_msg(pol[strlen("  policy       pppppppppppppppp")] == '\n', "the policy runs on:\n%s", pol);
	free(t);
	free(f);
}
END_TEST

/* Demotions, promotions and uses are events about an allocation: the report
 * names it from the table and says where it went, what was copied, which fence. */
START_TEST(test_text_demote_promote_use)
{
	struct fx *f = fx_new();
	uint32_t n = f->s.nevents;
	f->events[n++] = snap_event(GPUSIM_EV_DEMOTE, 5000, H(2), DEV0, VIS, INV, 0x200000, 1 * MiB, 1 * MiB,
				    GPUSIM_CAUSE_PRESSURE);
	f->events[n++] = snap_event(GPUSIM_EV_USE, 6000, H(2), DEV0, INV, INV, 0x200000, 1 * MiB, 9,
				    GPUSIM_CAUSE_RENDER);
	f->events[n++] = snap_event(GPUSIM_EV_PROMOTE, 7000, H(2), DEV0, INV, VIS, 0x100000, 1 * MiB, 1 * MiB,
				    GPUSIM_CAUSE_RENDER);
	f->s.nevents = n;
	int rc;
	char *t = capture(inspect_text, &f->s, &rc);
	ck_assert_int_eq(rc, 0);
	const char *demote = must_line(t, "5000 ns] demote", "0x40000081 tex0");
	ck_line(demote, "visible -> invisible at 0x200000, copied 1M", "cause pressure");
	const char *use = must_line(t, "6000 ns] use", "0x40000081 tex0");
	ck_line(use, "in invisible, fence 9", "cause render");
	const char *promote = must_line(t, "7000 ns] promote", "0x40000081 tex0");
	ck_line(promote, "invisible -> visible at 0x100000, copied 1M", "cause render");
	ck_before(demote, use);
	ck_before(use, promote);
	free(t);
	char *j = capture(inspect_json, &f->s, &rc);
	ck_assert_int_eq(rc, 0);
	json_error_t e;
	json_t *root = json_loads(j, 0, &e);
	ck_assert_msg(root != NULL, "%s", e.text);
	json_t *evs = json_object_get(root, "events");
	ck_assert_uint_eq(json_array_size(evs), n);
	const char *want[3] = { "demote", "use", "promote" };
	for (uint32_t k = 0; k < 3; k++) {
		json_t *ev = json_array_get(evs, n - 3 + k);
		ck_assert_str_eq(json_string_value(json_object_get(ev, "event")), want[k]);
		ck_assert_str_eq(json_string_value(json_object_get(ev, "name")), "tex0");
	}
	json_decref(root);
	free(j);
	free(f);
}
END_TEST

/* Nothing in it: every section says so rather than vanishing. */
START_TEST(test_text_empty)
{
	struct gpusim_snapshot s;
	memset(&s, 0, sizeof(s));
	s.version = GPUSIM_SNAPSHOT_VERSION;
	gpusim_config_default(&s.cfg);
	int rc;
	char *t = capture(inspect_text, &s, &rc);
	ck_assert_int_eq(rc, 0);
	ck_line(t, "registers (0)");
	ck_line(t, "GART mappings: 0 valid entries in 0 runs");
	ck_line(t, "allocations (0)");
	ck_line(t, "memory ranges (0), 0 populated");
	ck_line(t, "recent events (0)");
	ck_line(t, "  visible ", "absent");
	free(t);
}
END_TEST

/* ---- GART runs ------------------------------------------------------------------- */

START_TEST(test_gart_runs)
{
	struct fx *f = fx_new();
	struct inspect_gart_run r;
	uint64_t pos = 0;
	ck_assert(inspect_next_gart_run(&f->s, &pos, &r));
	ck_assert_uint_eq(r.page, 0);
	ck_assert_uint_eq(r.pfn, 0x100);
	ck_assert_uint_eq(r.pages, 4);
	ck_assert_uint_eq(r.bits, HW_GART_VALID | HW_GART_READ | HW_GART_WRITE);
	ck_assert_uint_eq(pos, 4);
	/* Contiguous pfn (0x104) but other bits: a run of its own. */
	ck_assert(inspect_next_gart_run(&f->s, &pos, &r));
	ck_assert_uint_eq(r.page, 4);
	ck_assert_uint_eq(r.pages, 1);
	ck_assert_uint_eq(r.bits, HW_GART_VALID | HW_GART_READ);
	ck_assert(inspect_next_gart_run(&f->s, &pos, &r));
	ck_assert_uint_eq(r.page, 5);
	ck_assert_uint_eq(r.pfn, 0x200);
	ck_assert_uint_eq(r.pages, 2);
	/* Contiguous pfn (0x202) but a hole in the aperture: a run of its own. */
	ck_assert(inspect_next_gart_run(&f->s, &pos, &r));
	ck_assert_uint_eq(r.page, 9);
	ck_assert_uint_eq(r.pfn, 0x202);
	ck_assert_uint_eq(r.pages, 1);
	ck_assert(!inspect_next_gart_run(&f->s, &pos, &r));
	ck_assert_uint_eq(pos, 8);

	/* Backwards, as a LIFO free list hands pages out: one run, descending, that
	 * ends where the direction breaks; and one that stops at pfn 0. */
	struct gpusim_snapshot_gart d[6] = {
		{ 0x10, HW_GART_ENTRY(0x50, HW_GART_VALID | HW_GART_READ) },
		{ 0x11, HW_GART_ENTRY(0x4f, HW_GART_VALID | HW_GART_READ) },
		{ 0x12, HW_GART_ENTRY(0x4e, HW_GART_VALID | HW_GART_READ) },
		{ 0x13, HW_GART_ENTRY(0x4f, HW_GART_VALID | HW_GART_READ) },
		{ 0x14, HW_GART_ENTRY(1, HW_GART_VALID | HW_GART_READ) },
		{ 0x15, HW_GART_ENTRY(0, HW_GART_VALID | HW_GART_READ) },
	};
	f->s.gart = d;
	f->s.ngart = 6;
	pos = 0;
	ck_assert(inspect_next_gart_run(&f->s, &pos, &r));
	ck_assert_uint_eq(r.page, 0x10);
	ck_assert_uint_eq(r.pages, 3);
	ck_assert(r.descending);
	ck_assert_uint_eq(r.pfn, 0x50);
	ck_assert_uint_eq(inspect_gart_run_last_pfn(&r), 0x4e);
	ck_assert(inspect_next_gart_run(&f->s, &pos, &r));
	ck_assert_uint_eq(r.page, 0x13);
	ck_assert_uint_eq(r.pages, 1);
	ck_assert(!r.descending);
	ck_assert(inspect_next_gart_run(&f->s, &pos, &r));
	ck_assert_uint_eq(r.page, 0x14);
	ck_assert_uint_eq(r.pages, 2);
	ck_assert(r.descending);
	ck_assert_uint_eq(inspect_gart_run_last_pfn(&r), 0);
	ck_assert(!inspect_next_gart_run(&f->s, &pos, &r));
	int rc;
	char *t = capture(inspect_text, &f->s, &rc);
	ck_assert_int_eq(rc, 0);
	ck_line(t, "aperture pages 0x10..0x12", "-> system pages 0x50..0x4e", "R-", "3 pages (12K), descending");
	ck_line(t, "GART mappings: 6 valid entries in 3 runs");
	free(t);

	/* A page number at the top does not wrap into a run with page 0. */
	struct gpusim_snapshot_gart g[2] = {
		{ UINT64_MAX, HW_GART_ENTRY(1, HW_GART_VALID) },
		{ 0, HW_GART_ENTRY(2, HW_GART_VALID) },
	};
	f->s.gart = g;
	f->s.ngart = 2;
	pos = 0;
	ck_assert(inspect_next_gart_run(&f->s, &pos, &r));
	ck_assert_uint_eq(r.pages, 1);
	ck_assert(inspect_next_gart_run(&f->s, &pos, &r));
	ck_assert_uint_eq(r.page, 0);
	ck_assert(!inspect_next_gart_run(&f->s, &pos, &r));
	free(f);
}
END_TEST

/* ---- JSON ------------------------------------------------------------------------ */

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	ck_assert_msg(j != NULL, "the JSON does not parse: line %d: %s\n%s", e.line, e.text, text);
	return j;
}

static json_int_t jint(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	ck_assert_msg(json_is_integer(v), "'%s' is not an integer", key);
	return json_integer_value(v);
}

static const char *jstr(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	ck_assert_msg(json_is_string(v), "'%s' is not a string", key);
	return json_string_value(v);
}

static json_t *jarr(json_t *obj, const char *key, size_t n)
{
	json_t *v = json_object_get(obj, key);
	ck_assert_msg(json_is_array(v), "'%s' is not an array", key);
	ck_assert_uint_eq(json_array_size(v), n);
	return v;
}

START_TEST(test_json_document)
{
	struct fx *f = fx_new();
	int rc;
	char *t = capture(inspect_json, &f->s, &rc);
	ck_assert_int_eq(rc, 0);
	json_t *j = parse(t);
	ck_assert_str_eq(jstr(j, "format"), "gpusim-inspect");
	ck_assert_int_eq(jint(j, "version"), 1);
	ck_assert_int_eq(jint(j, "snapshot_version"), GPUSIM_SNAPSHOT_VERSION);
	ck_assert_int_eq(jint(j, "time_ns"), 1234567);

	json_t *cfg = json_object_get(j, "config");
	ck_assert_int_eq(jint(cfg, "vram"), 256 * MiB);
	ck_assert_int_eq(jint(cfg, "gart_base"), HW_GART_BASE_DEFAULT);
	ck_assert_str_eq(jstr(cfg, "policy"), "arc");
	ck_assert_int_eq(jint(cfg, "seed"), 7);

	json_t *st = json_object_get(j, "stats");
	ck_assert_int_eq(jint(st, "evictions"), 9);
	ck_assert_int_eq(jint(st, "bytes_out"), 5 * MiB);
	ck_assert_int_eq(jint(st, "commit_pages"), 1536);
	json_t *segs = jarr(st, "segments", 3);
	ck_assert_str_eq(jstr(json_array_get(segs, 1), "name"), "invisible");
	ck_assert_int_eq(jint(json_array_get(segs, 1), "largest_free"), 190 * MiB);
	ck_assert(json_is_number(json_object_get(json_array_get(segs, 0), "fragmentation")));

	json_t *regs = jarr(j, "registers", 6);
	ck_assert_str_eq(jstr(json_array_get(regs, 5), "name"), "RING1.WPTR");
	ck_assert_int_eq(jint(json_array_get(regs, 5), "offset"), 0x150);
	ck_assert_int_eq(jint(json_array_get(regs, 5), "value"), 0x80);
	ck_assert(json_is_null(json_object_get(json_array_get(regs, 4), "name")));
	ck_assert_int_eq(jint(json_array_get(regs, 0), "value"), HW_DEVICE_ID);

	json_t *gart = json_object_get(j, "gart");
	ck_assert_int_eq(jint(gart, "entries"), 8);
	json_t *runs = jarr(gart, "runs", 4);
	json_t *r0 = json_array_get(runs, 0), *r1 = json_array_get(runs, 1);
	ck_assert_int_eq(jint(r0, "pages"), 4);
	ck_assert_int_eq(jint(r0, "pfn"), 0x100);
	ck_assert_int_eq(jint(r0, "last_pfn"), 0x103);
	ck_assert(json_is_false(json_object_get(r0, "descending")));
	ck_assert_int_eq(jint(r0, "gpu_address"), HW_GART_BASE_DEFAULT);
	ck_assert(json_is_true(json_object_get(r0, "write")));
	ck_assert(json_is_false(json_object_get(r1, "write")));
	ck_assert(json_is_true(json_object_get(r1, "read")));
	ck_assert_int_eq(jint(json_array_get(runs, 3), "gpu_address"), HW_GART_BASE_DEFAULT + 9 * 4096);

	/* Allocations in the text's order: by segment, then offset. */
	json_t *al = jarr(j, "allocations", 5);
	static const char *const order[] = { "", "tex0", "rt1", "ui0", "evicted" };
	static const char *const segs_want[] = { "visible", "visible", "invisible", "gart", "sys" };
	for (size_t i = 0; i < 5; i++) {
		ck_assert_str_eq(jstr(json_array_get(al, i), "name"), order[i]);
		ck_assert_str_eq(jstr(json_array_get(al, i), "segment"), segs_want[i]);
	}
	json_t *tex0 = json_array_get(al, 1);
	ck_assert_str_eq(jstr(tex0, "handle"), "0x40000081");
	ck_assert_str_eq(jstr(tex0, "device"), "0x40000041");
	ck_assert_int_eq(jint(tex0, "size"), 1 * MiB);
	ck_assert_int_eq(jint(tex0, "offset"), 0x100000);
	ck_assert_int_eq(jint(tex0, "gpu_address"), 0x100000);
	ck_assert_int_eq(jint(tex0, "priority"), D3DDDI_ALLOCATIONPRIORITY_HIGH);
	ck_assert_str_eq(jstr(tex0, "priority_name"), "high");
	ck_assert_int_eq(jint(tex0, "flags"), GPUSIM_ALLOC_CPU_VISIBLE | GPUSIM_ALLOC_PINNED);
	json_t *fl = jarr(tex0, "flag_names", 2);
	ck_assert_str_eq(json_string_value(json_array_get(fl, 0)), "cpu");
	ck_assert_str_eq(json_string_value(json_array_get(fl, 1)), "pinned");
	ck_assert_int_eq(jint(tex0, "lock_count"), 1);
	ck_assert_int_eq(jint(tex0, "residency_count"), 2);
	ck_assert(json_is_null(json_object_get(json_array_get(al, 4), "priority_name")));
	ck_assert_int_eq(jint(json_array_get(al, 3), "gpu_address"), HW_GART_BASE_DEFAULT + 0x4000);

	ck_assert_int_eq(jint(j, "populated_bytes"), 16 * KiB);
	json_t *rg = jarr(j, "ranges", 2);
	ck_assert_str_eq(jstr(json_array_get(rg, 0), "space"), "vram");
	ck_assert_str_eq(jstr(json_array_get(rg, 1), "space"), "sys");
	ck_assert_int_eq(jint(json_array_get(rg, 1), "page"), 0x100);
	ck_assert_int_eq(jint(json_array_get(rg, 1), "address"), GPUSIM_SYSMEM_BUS_BASE + 0x100 * 4096ull);

	json_t *evs = jarr(j, "events", 4);
	json_t *e1 = json_array_get(evs, 1);
	ck_assert_str_eq(jstr(e1, "event"), "evict");
	ck_assert_str_eq(jstr(e1, "name"), "evicted");
	ck_assert_str_eq(jstr(e1, "from"), "invisible");
	ck_assert_str_eq(jstr(e1, "segment"), "sys");
	ck_assert_str_eq(jstr(e1, "cause"), "pressure");
	ck_assert_int_eq(jint(e1, "value"), 64 * KiB);
	ck_assert_str_eq(jstr(json_array_get(evs, 3), "cause"), "gart-invalid");
	ck_assert(json_is_null(json_object_get(json_array_get(evs, 2), "name")));
	json_decref(j);
	free(t);
	free(f);
}
END_TEST

/* Any bytes in a name give a document that parses, and the printable ones come
 * back as they were. */
START_TEST(test_json_escapes)
{
	struct fx *f = fx_new();
	memcpy(f->allocs[0].name, "q\"b\\s\x01\x7f" "\xc3\xa9" "\xff", 11);
	memset(f->allocs[2].name, 'x', sizeof(f->allocs[2].name)); /* no NUL */
	f->s.stats.seg[VIS].fragmentation = NAN;
	int rc;
	char *t = capture(inspect_json, &f->s, &rc);
	ck_assert_int_eq(rc, 0);
	json_t *j = parse(t);
	json_t *al = json_object_get(j, "allocations");
	const char *rt1 = jstr(json_array_get(al, 2), "name");
	ck_assert_str_eq(rt1, "q\"b\\s\x01\x7f" "\xc3\xa9" "\xc3\xbf"); /* 0xff as U+00FF */
	const char *ui0 = jstr(json_array_get(al, 3), "name");
	ck_assert_uint_eq(strlen(ui0), GPUSIM_SNAPSHOT_NAME_MAX);
	ck_assert(json_is_null(json_object_get(json_array_get(json_object_get(json_object_get(j, "stats"),
									       "segments"), 0),
					       "fragmentation")));
	json_decref(j);
	free(t);
	free(f);
}
END_TEST

START_TEST(test_json_empty)
{
	struct gpusim_snapshot s;
	memset(&s, 0, sizeof(s));
	gpusim_config_default(&s.cfg);
	int rc;
	char *t = capture(inspect_json, &s, &rc);
	ck_assert_int_eq(rc, 0);
	json_t *j = parse(t);
	jarr(j, "registers", 0);
	jarr(json_object_get(j, "gart"), "runs", 0);
	jarr(j, "allocations", 0);
	jarr(j, "ranges", 0);
	jarr(j, "events", 0);
	json_decref(j);
	free(t);
}
END_TEST

/* ---- the viewer's recording of a snapshot ----------------------------------------- */

static void model_of(struct vm_model *m, const struct gpusim_snapshot *s, struct vm_recording *r)
{
	char err[256];
	ck_assert_int_eq(vm_recording_from_snapshot(r, s, err, sizeof(err)), 0);
	vm_replay(m, r, r->nitems);
}

static uint32_t live_in(const struct vm_model *m, uint32_t seg)
{
	uint32_t n = 0;
	for (size_t i = 0; i < m->nallocs; i++)
		n += m->allocs[i].live && m->allocs[i].seg == seg;
	return n;
}

static size_t live(const struct vm_model *m)
{
	size_t n = 0;
	for (size_t i = 0; i < m->nallocs; i++)
		n += m->allocs[i].live;
	return n;
}

static const struct vm_alloc *at(const struct vm_model *m, uint32_t h)
{
	const struct vm_alloc *a = vm_find(m, h);
	ck_assert_msg(a && a->live, "allocation 0x%x is not in the model", h);
	return a;
}

/* The end of the recording is the table: segments, offsets, names, locks,
 * priorities; the counters are the statistics, the time the snapshot's. */
START_TEST(test_view_model_is_the_table)
{
	struct fx *f = fx_new();
	struct vm_recording r;
	struct vm_model m;
	model_of(&m, &f->s, &r);
	ck_assert_uint_eq(live(&m), 5);
	ck_assert_uint_eq(live_in(&m, VIS), 2);
	ck_assert_uint_eq(live_in(&m, INV), 1);
	ck_assert_uint_eq(live_in(&m, GART), 1);
	ck_assert_uint_eq(live_in(&m, SYS), 1);
	ck_assert_uint_eq(m.seg[VIS].count, 2);
	ck_assert_uint_eq(m.seg[VIS].used, 1 * MiB + 4 * KiB);
	ck_assert_uint_eq(m.seg[VIS].size, 60 * MiB);
	ck_assert_uint_eq(m.seg[INV].size, 192 * MiB);

	const struct vm_alloc *tex0 = at(&m, H(2));
	ck_assert_str_eq(tex0->name, "tex0");
	ck_assert_uint_eq(tex0->seg, VIS);
	ck_assert_uint_eq(tex0->offset, 0x100000);
	ck_assert_uint_eq(tex0->priority, D3DDDI_ALLOCATIONPRIORITY_HIGH);
	ck_assert(tex0->locked);
	ck_assert_uint_eq(tex0->device, DEV0);
	ck_assert_uint_eq(at(&m, H(1))->offset, 0);
	ck_assert_uint_eq(at(&m, H(1))->seg, INV);
	ck_assert_uint_eq(at(&m, H(3))->offset, 0x4000);
	ck_assert_str_eq(at(&m, H(4))->name, "evicted");
	ck_assert_uint_eq(at(&m, H(4))->seg, SYS);
	ck_assert_str_eq(at(&m, H(5))->name, "#40000141"); /* no name in the table */

	ck_assert_uint_eq(m.now_ns, 1234567);
	ck_assert_uint_eq(m.evictions, 9);
	ck_assert_uint_eq(m.page_ins, 4);
	ck_assert_uint_eq(m.moves, 2);
	ck_assert_uint_eq(m.bytes_out, 5 * MiB);
	ck_assert_uint_eq(m.bytes_in, 3 * MiB);
	ck_assert_uint_eq(m.faults, 1);
	ck_assert_uint_eq(m.submits, 30);
	ck_assert_uint_eq(m.adapter.budget_local, 240 * MiB);
	ck_assert_uint_eq(m.adapter.budget_nonlocal, 511 * MiB);
	ck_assert_uint_eq(m.adapter.vram, 256 * MiB);
	ck_assert_str_eq(m.adapter.policy, "arc");

	/* The evicted one was in invisible VRAM at 0x300000 before the window (its
	 * EVICT says so): its history is that place, then the eviction. */
	const struct vm_alloc *ev = at(&m, H(4));
	ck_assert_uint_eq(ev->nhistory, 2);
	ck_assert_uint_eq(ev->history[0].to, INV);
	ck_assert_uint_eq(ev->history[0].offset, 0x300000);
	ck_assert_uint_eq(ev->history[1].type, GPUSIM_EV_EVICT);
	ck_assert_uint_eq(ev->history[1].time_ns, 2000);
	/* The one created in the window was created at its event's time. */
	ck_assert_uint_eq(at(&m, H(5))->created_ns, 1000);
	vm_free(&m);

	/* Before the first event: everything made before the window, where it was,
	 * and the counters as they were then. */
	size_t first_event = 0;
	while (first_event < r.nitems && !(r.items[first_event].type == GPUSIM_TRACE_EVENT &&
					   r.items[first_event].event.time_ns == 1000 &&
					   r.items[first_event].event.allocation == H(5)))
		first_event++;
	ck_assert_uint_lt(first_event, r.nitems);
	vm_replay(&m, &r, first_event);
	ck_assert_uint_eq(live(&m), 4);
	ck_assert_uint_eq(at(&m, H(4))->seg, INV);
	ck_assert_uint_eq(at(&m, H(4))->offset, 0x300000);
	ck_assert_ptr_null(vm_find(&m, H(5)));
	ck_assert_uint_eq(m.evictions, 8);
	ck_assert_uint_eq(m.bytes_out, 5 * MiB - 64 * KiB);
	ck_assert_uint_eq(m.faults, 0);
	ck_assert_uint_eq(m.submits, 29);
	ck_assert_uint_eq(m.now_ns, 1000);
	vm_free(&m);
	vm_recording_free(&r);
	free(f);
}
END_TEST

/* Events that disagree with the table, and the table wins: an allocation the
 * events never mention, one they leave elsewhere, one they destroyed that the
 * table holds again, one they show that the table does not hold, one moved
 * from an unknown place. */
START_TEST(test_view_model_reconciles)
{
	struct fx *f = fx_new();
	size_t n = 0;
	/* rt1 (H1): the events put it in visible at 0x200000; the table says invisible 0. */
	f->events[n++] = snap_event(GPUSIM_EV_PAGE_IN, 100, H(1), DEV0, SYS, VIS, 0x200000, 2 * MiB, 2 * MiB,
				    GPUSIM_CAUSE_RENDER);
	/* H(6): created and left live by the events, not in the table. */
	f->events[n++] = snap_event(GPUSIM_EV_CREATE, 200, H(6), DEV0, GPUSIM_SEG_NONE, INV, 0x400000, 1 * MiB, 0,
				    GPUSIM_CAUSE_CREATE);
	/* ui0 (H3): moved from somewhere unknown into the GART at 0x4000. */
	f->events[n++] = snap_event(GPUSIM_EV_MOVE, 300, H(3), DEV1, VIS, GART, 0x4000, 1 * MiB, 1 * MiB,
				    GPUSIM_CAUSE_PRESSURE);
	/* H(5): destroyed in the window, and in the table again (a reused handle
	 * whose CREATE the window lost). */
	f->events[n++] = snap_event(GPUSIM_EV_DESTROY, 400, H(5), DEV1, VIS, GPUSIM_SEG_NONE, 0, 4 * KiB, 0,
				    GPUSIM_CAUSE_DESTROY);
	f->s.nevents = (uint32_t)n;
	f->s.stats.moves = 0; /* fewer than the window counts: the start is 0, not negative */
	struct vm_recording r;
	struct vm_model m;
	model_of(&m, &f->s, &r);
	ck_assert_uint_eq(live(&m), 5);
	const struct vm_alloc *gone = vm_find(&m, H(6));
	ck_assert_msg(gone && !gone->live, "H(6) was shown by the events and is not in the table");
	ck_assert_uint_eq(at(&m, H(1))->seg, INV);
	ck_assert_uint_eq(at(&m, H(1))->offset, 0);
	ck_assert_uint_eq(at(&m, H(3))->seg, GART);
	ck_assert_uint_eq(at(&m, H(3))->offset, 0x4000);
	ck_assert_uint_eq(at(&m, H(5))->seg, VIS);
	ck_assert_uint_eq(live_in(&m, VIS), 2);
	ck_assert_uint_eq(live_in(&m, INV), 1);
	ck_assert_uint_eq(m.seg[INV].used, 2 * MiB);
	ck_assert_uint_eq(m.moves, 1); /* the window's own move; nothing before it */
	ck_assert_uint_eq(m.evictions, 9);
	/* The reconciling events are placements of cause none, never paging. */
	for (size_t i = 0; i < r.nitems; i++) {
		const struct gpusim_event *e = &r.items[i].event;
		if (r.items[i].type == GPUSIM_TRACE_EVENT && e->time_ns == f->s.time_ns)
			ck_assert(e->type == GPUSIM_EV_PLACE || e->type == GPUSIM_EV_CREATE ||
				  e->type == GPUSIM_EV_DESTROY || e->type == GPUSIM_EV_LOCK ||
				  e->type == GPUSIM_EV_UNLOCK || e->type == GPUSIM_EV_BUDGET);
	}
	/* The JSON dump of the model agrees. */
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	ck_assert_int_eq(vm_dump_json(&m, out), 0);
	fclose(out);
	json_t *j = parse(buf);
	json_t *al = jarr(j, "allocations", 5);
	size_t found = 0;
	for (size_t i = 0; i < 5; i++) {
		json_t *a = json_array_get(al, i);
		if (!strcmp(jstr(a, "name"), "rt1")) {
			ck_assert_str_eq(jstr(a, "segment"), "invisible");
			found++;
		}
	}
	ck_assert_uint_eq(found, 1);
	ck_assert_int_eq(jint(json_object_get(j, "counters"), "evictions"), 9);
	json_decref(j);
	free(buf);
	vm_free(&m);
	vm_recording_free(&r);
	free(f);
}
END_TEST

/* No events (libkmt leaves them to sim/): the table at the snapshot's moment. */
START_TEST(test_view_model_without_events)
{
	struct fx *f = fx_new();
	f->s.nevents = 0;
	struct vm_recording r;
	struct vm_model m;
	model_of(&m, &f->s, &r);
	ck_assert_uint_eq(live(&m), 5);
	ck_assert_uint_eq(live_in(&m, SYS), 1);
	ck_assert_uint_eq(at(&m, H(2))->offset, 0x100000);
	ck_assert_uint_eq(m.evictions, 9);
	ck_assert_uint_eq(m.now_ns, 1234567);
	ck_assert_uint_eq(r.start.time_ns, 1234567);
	vm_free(&m);
	vm_recording_free(&r);

	/* And an empty table. */
	f->s.nallocs = 0;
	model_of(&m, &f->s, &r);
	ck_assert_uint_eq(live(&m), 0);
	ck_assert_uint_eq(m.now_ns, 1234567);
	vm_free(&m);
	vm_recording_free(&r);
	free(f);
}
END_TEST

/* ---- a snapshot of a live adapter ------------------------------------------------ */

struct evlog {
	struct gpusim_event ev[256];
	uint32_t n;
};

/* Called with the library lock held: it only copies. */
static void log_event(void *opaque, const struct gpusim_event *e)
{
	struct evlog *l = opaque;
	if (l->n < sizeof(l->ev) / sizeof(l->ev[0]))
		l->ev[l->n++] = *e;
}

static D3DKMT_HANDLE live_alloc(D3DKMT_HANDLE device, uint64_t size, uint32_t flags, uint32_t pref)
{
	struct gpusim_alloc_desc d;
	memset(&d, 0, sizeof(d));
	d.version = GPUSIM_ALLOC_DESC_VERSION;
	d.flags = flags;
	d.size = size;
	d.preferred[0] = pref;
	D3DDDI_ALLOCATIONINFO2 info;
	memset(&info, 0, sizeof(info));
	info.pPrivateDriverData = &d;
	info.PrivateDriverDataSize = sizeof(d);
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = device;
	ca.NumAllocations = 1;
	ca.pAllocationInfo2 = &info;
	ck_assert_int_eq(D3DKMTCreateAllocation2(&ca), STATUS_SUCCESS);
	return info.hAllocation;
}

/* What libkmt's own snapshot gives, with the names and events sim/ adds: the
 * report names every register it holds, lists every allocation where the manager
 * says it is, and the viewer's last moment agrees with the manager too. */
START_TEST(test_live_snapshot)
{
	struct gpusim_config cfg;
	char err[256] = "";
	gpusim_reset();
	gpusim_config_default(&cfg);
	ck_assert_int_eq(gpusim_config_parse(&cfg, "vram=8M,visible=4M,gart=8M,sysmem=64M", err, sizeof(err)), 0);
	LUID luid;
	ck_assert_int_eq(gpusim_adapter_create(&cfg, &luid), STATUS_SUCCESS);
	static struct evlog log;
	log.n = 0;
	ck_assert_int_eq(gpusim_subscribe(luid, log_event, &log), STATUS_SUCCESS);
	D3DKMT_OPENADAPTERFROMLUID oa = { .AdapterLuid = luid };
	ck_assert_int_eq(D3DKMTOpenAdapterFromLuid(&oa), STATUS_SUCCESS);
	D3DKMT_CREATEDEVICE cd = { .hAdapter = oa.hAdapter };
	ck_assert_int_eq(D3DKMTCreateDevice(&cd), STATUS_SUCCESS);

	static const char *const names[] = { "vis", "inv", "gart", "gone" };
	D3DKMT_HANDLE h[4];
	h[0] = live_alloc(cd.hDevice, 1 * MiB, GPUSIM_ALLOC_CPU_VISIBLE, VIS);
	h[1] = live_alloc(cd.hDevice, 2 * MiB, 0, INV);
	h[2] = live_alloc(cd.hDevice, 512 * KiB, 0, GART);
	h[3] = live_alloc(cd.hDevice, 1 * MiB, 0, INV);
	D3DDDI_MAKERESIDENT mr;
	memset(&mr, 0, sizeof(mr));
	mr.hPagingQueue = cd.hDevice;
	mr.NumAllocations = 1;
	mr.AllocationList = &h[3];
	NTSTATUS st = D3DKMTMakeResident(&mr);
	ck_assert(st == STATUS_SUCCESS || st == STATUS_PENDING);
	D3DKMT_EVICT ev;
	memset(&ev, 0, sizeof(ev));
	ev.hDevice = cd.hDevice;
	ev.NumAllocations = 1;
	ev.AllocationList = &h[3];
	ck_assert_int_eq(D3DKMTEvict(&ev), STATUS_SUCCESS);
	ck_assert_int_eq(gpusim_idle(luid), STATUS_SUCCESS);

	struct gpusim_snapshot *taken;
	ck_assert_int_eq(gpusim_snapshot_take(luid, &taken), STATUS_SUCCESS);
	ck_assert_int_eq(gpusim_unsubscribe(luid, log_event, &log), STATUS_SUCCESS);
	/* sim/'s part: names and recent events into a copy of the table. */
	struct gpusim_snapshot s = *taken;
	struct gpusim_snapshot_alloc *rows = calloc(taken->nallocs + 1, sizeof(*rows));
	ck_assert_ptr_nonnull(rows);
	memcpy(rows, taken->allocs, taken->nallocs * sizeof(*rows));
	for (uint64_t i = 0; i < taken->nallocs; i++)
		for (size_t k = 0; k < 4; k++)
			if (rows[i].handle == h[k])
				snprintf(rows[i].name, sizeof(rows[i].name), "%s", names[k]);
	s.allocs = rows;
	s.events = log.ev;
	s.nevents = log.n;
	ck_assert_uint_gt(log.n, 4);

	int rc;
	char *t = capture(inspect_text, &s, &rc);
	ck_assert_int_eq(rc, 0);
	ck_line(t, "  vram ", "8M");
	ck_line(t, "0x000", "ID", "0x47505553");
	ck_line(t, "0x004", "REV", "0x00010000");
	ck_line(t, "0x010", "VRAM_SIZE_LO", "0x00800000");
	ck_assert_ptr_null(strstr(t, "(unknown)")); /* every register take records has a name */
	for (size_t k = 0; k < 4; k++) {
		struct gpusim_alloc_info info;
		ck_assert_int_eq(gpusim_query_allocation(h[k], &info), STATUS_SUCCESS);
		char handle[32], size[32];
		snprintf(handle, sizeof(handle), "0x%08x  %s ", h[k], names[k]);
		snprintf(size, sizeof(size), " %s ", info.size == 1 * MiB ? "1M" : info.size == 2 * MiB ? "2M" : "512K");
		ck_line(t, handle, size, gpusim_segment_name(info.segment));
	}
	ck_line(t, names[3], "sys");
	char *jt = capture(inspect_json, &s, &rc);
	ck_assert_int_eq(rc, 0);
	json_t *j = parse(jt);
	free(jt);
	json_t *regs = jarr(j, "registers", s.nregs);
	for (size_t i = 0; i < json_array_size(regs); i++)
		ck_assert(json_is_string(json_object_get(json_array_get(regs, i), "name")));
	jarr(j, "allocations", s.nallocs);
	jarr(j, "events", s.nevents);
	uint64_t pages = 0;
	json_t *runs = json_object_get(json_object_get(j, "gart"), "runs");
	for (size_t i = 0; i < json_array_size(runs); i++)
		pages += (uint64_t)jint(json_array_get(runs, i), "pages");
	ck_assert_uint_eq(pages, s.ngart);
	ck_assert_uint_gt(s.ngart, 0); /* the GART allocation's pages are mapped */
	/* The device state, field by field as hw/vmstate.c names them. */
	json_t *ds = json_object_get(j, "device_state");
	ck_assert_int_eq(jint(ds, "version"), HW_STATE_VERSION);
	json_t *fields = json_object_get(ds, "fields");
	ck_assert_uint_gt(json_array_size(fields), 40);
	bool saw_clock = false, saw_wptr = false;
	for (size_t i = 0; i < json_array_size(fields); i++) {
		json_t *fl = json_array_get(fields, i);
		const char *name = json_string_value(json_object_get(fl, "name"));
		ck_assert_ptr_nonnull(name);
		if (!strcmp(name, "clock.now")) {
			saw_clock = true;
			ck_assert_uint_eq((uint64_t)jint(fl, "value"), s.time_ns);
		}
		saw_wptr |= !strcmp(name, "ring1.wptr");
	}
	ck_assert(saw_clock && saw_wptr);
	ck_assert_ptr_nonnull(strstr(t, "\ndevice state ("));
	ck_assert_ptr_nonnull(strstr(t, "\n  ring0.fence "));
	json_decref(j);
	free(t);

	struct vm_recording r;
	struct vm_model m;
	model_of(&m, &s, &r);
	for (size_t k = 0; k < 4; k++) {
		struct gpusim_alloc_info info;
		ck_assert_int_eq(gpusim_query_allocation(h[k], &info), STATUS_SUCCESS);
		const struct vm_alloc *a = at(&m, h[k]);
		ck_assert_uint_eq(a->seg, info.segment);
		if (info.segment != SYS)
			ck_assert_uint_eq(a->offset, info.offset);
		ck_assert_str_eq(a->name, names[k]);
	}
	ck_assert_uint_eq(live(&m), s.nallocs);
	ck_assert_uint_eq(m.evictions, s.stats.evictions);
	ck_assert_uint_ge(m.evictions, 1);
	ck_assert_uint_eq(m.now_ns, s.time_ns);
	vm_free(&m);
	vm_recording_free(&r);
	free(rows);
	gpusim_snapshot_free(taken);
	gpusim_reset();
}
END_TEST

Suite *sim_inspect_suite(void)
{
	Suite *s = suite_create("sim_inspect");
	TCase *tc = tcase_create("inspect");
	tcase_add_test(tc, test_reg_names);
	tcase_add_test(tc, test_text_report);
	tcase_add_test(tc, test_text_deterministic_and_time_ordered);
	tcase_add_test(tc, test_text_hostile_names);
	tcase_add_test(tc, test_text_demote_promote_use);
	tcase_add_test(tc, test_text_empty);
	tcase_add_test(tc, test_gart_runs);
	tcase_add_test(tc, test_json_document);
	tcase_add_test(tc, test_json_escapes);
	tcase_add_test(tc, test_json_empty);
	suite_add_tcase(s, tc);
	TCase *tv = tcase_create("view");
	tcase_add_test(tv, test_view_model_is_the_table);
	tcase_add_test(tv, test_view_model_reconciles);
	tcase_add_test(tv, test_view_model_without_events);
	tcase_add_test(tv, test_live_snapshot);
	suite_add_tcase(s, tv);
	return s;
}
