/*
 * The policy lab (sim/lab/, gpusim lab): MIN and the lower bound on sequences
 * worked out by hand, the sequence read from traces (hand-written, from `gpusim
 * trace`, from a GPUSIM_TRACE client), the replay paging exactly what the recorded
 * run paged, the program's table and JSON, and its refusals of bad input.
 */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gpusim/trace.h>

#include "sim/lab/min.h"
#include "sim/lab/replay.h"
#include "sim/lab/seq.h"
#include "sim/view/model.h"
#include "tests/sim/sim_suites.h"

#define MiB (1024ull * 1024ull)
#define LOW D3DDDI_ALLOCATIONPRIORITY_LOW
#define NORMAL D3DDDI_ALLOCATIONPRIORITY_NORMAL

/* ---- scratch directory and the programs ------------------------------------------ */

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/gpusim-lab-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static const char *in_dir(const char *name)
{
	static char path[4][160];
	static int k;
	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s", dir, name);
	return path[k];
}

/* GPUSIM names the program under make check; ./sim/gpusim otherwise. */
static const char *gpusim(void)
{
	static char path[4096];
	const char *g = getenv("GPUSIM");
	if (!path[0])
		ck_assert_msg(realpath(g && *g ? g : "./sim/gpusim", path) != NULL, "no gpusim program (set GPUSIM)");
	return path;
}

/* tests/trace_client of the same build tree as gpusim. */
static const char *client(void)
{
	static char path[4096];
	snprintf(path, sizeof(path), "%s", gpusim());
	char *slash = strrchr(path, '/');
	ck_assert_ptr_nonnull(slash);
	*slash = '\0';
	slash = strrchr(path, '/');
	ck_assert_ptr_nonnull(slash);
	snprintf(slash, sizeof(path) - (size_t)(slash - path), "/tests/trace_client");
	ck_assert_msg(access(path, X_OK) == 0, "%s is not built", path);
	return path;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	fclose(m);
	return buf;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

struct run {
	int status;
	char *out, *err;
};

/* A shell command line in the scratch directory, its output kept. */
static struct run sh(const char *cmdline)
{
	char cmd[12288];
	snprintf(cmd, sizeof(cmd), "cd '%s' && %s >out 2>err", dir, cmdline);
	int st = system(cmd);
	struct run r = { .status = WIFEXITED(st) ? WEXITSTATUS(st) : -1 };
	r.out = slurp(in_dir("out"));
	r.err = slurp(in_dir("err"));
	return r;
}

static struct run lab(const char *args)
{
	char cmd[5120];
	snprintf(cmd, sizeof(cmd), "'%s' lab %s", gpusim(), args);
	return sh(cmd);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* ---- MIN by hand ------------------------------------------------------------------- */

/* Four allocations, A 2 MiB, B 1 MiB, C 1 MiB, D 2 MiB, and six calls:
 *   g0 {A}  g1 {B}  g2 {C}  g3 {D}  g4 {A}  g5 {B, D}
 * Next uses: A g0->g4->never, B g1->g5, C g2->never, D g3->g5. */
static void hand_case(struct lab_seq *s)
{
	uint32_t a, b, c, d;
	lab_seq_init(s);
	ck_assert_int_eq(lab_seq_create(s, 2 * MiB, NORMAL, true, &a), 0);
	ck_assert_int_eq(lab_seq_create(s, 1 * MiB, NORMAL, true, &b), 0);
	ck_assert_int_eq(lab_seq_create(s, 1 * MiB, NORMAL, true, &c), 0);
	ck_assert_int_eq(lab_seq_create(s, 2 * MiB, NORMAL, true, &d), 0);
	uint32_t g[6][2] = { { a }, { b }, { c }, { d }, { a }, { b, d } };
	for (int i = 0; i < 6; i++)
		ck_assert_int_eq(lab_seq_use(s, g[i], i == 5 ? 2 : 1), 0);
	ck_assert_uint_eq(s->ngroups, 6);
	ck_assert_uint_eq(s->nuses, 7);
	ck_assert_uint_eq(s->largest_group, 3 * MiB);
	ck_assert_uint_eq(s->peak_vram, 6 * MiB);
}

/*
 * Belady at 4 MiB. Cold loads cost nothing (no data yet); every resident
 * allocation has been used, so every eviction writes its size back.
 *   g0 A in (cold)                    resident A2            = 2
 *   g1 B in (cold)                    A2 B1                  = 3
 *   g2 C in (cold)                    A2 B1 C1               = 4
 *   g3 D needs 2, 0 free: C (never used again) out 1, then of A (g4) and B (g5)
 *      the farthest, B, out 1; D in (cold)          A2 D2    = 4
 *   g4 A resident
 *   g5 {B, D}: D held; B needs 1, 0 free: A (never again) out 2; B in 1 (data)
 * Out 1 + 1 + 2 = 4 MiB in 3 evictions, in 1 MiB in 1 page-in: 5 MiB.
 *
 * Belady at 3.5 MiB:
 *   g0 A in                           A2                     = 2
 *   g1 B in                           A2 B1                  = 3
 *   g2 C needs 1, 0.5 free: of A (g4), B (g5) the farthest, B, out 1; C in
 *                                     A2 C1                  = 3
 *   g3 D needs 2: C (never) out 1, A (g4) out 2; D in         D2    = 2
 *   g4 A needs 2, 1.5 free: D (g5) out 2; A in 2 (data)       A2    = 2
 *   g5 B in 1 (data), 1.5 -> 0.5 free; D needs 2: A (never) out 2; D in 2
 * Out 1 + 1 + 2 + 2 + 2 = 8 MiB in 5 evictions, in 2 + 1 + 2 = 5 MiB in 3
 * page-ins: 13 MiB.
 */
START_TEST(test_min_belady_by_hand)
{
	struct lab_seq s;
	hand_case(&s);
	struct lab_min m;
	ck_assert_int_eq(lab_min_belady(&s, 4 * MiB, &m), 0);
	ck_assert_uint_eq(m.bytes_out, 4 * MiB);
	ck_assert_uint_eq(m.bytes_in, 1 * MiB);
	ck_assert_uint_eq(m.evictions, 3);
	ck_assert_uint_eq(m.page_ins, 1);
	ck_assert_int_eq(lab_min_belady(&s, 7 * MiB / 2, &m), 0);
	ck_assert_uint_eq(m.bytes_out, 8 * MiB);
	ck_assert_uint_eq(m.bytes_in, 5 * MiB);
	ck_assert_uint_eq(m.evictions, 5);
	ck_assert_uint_eq(m.page_ins, 3);
	/* Everything fits: nothing pages. A call larger than VRAM cannot be served. */
	ck_assert_int_eq(lab_min_belady(&s, 6 * MiB, &m), 0);
	ck_assert_uint_eq(m.bytes_in + m.bytes_out, 0);
	ck_assert_int_eq(lab_min_belady(&s, 3 * MiB - 1, &m), -ENOSPC);
	lab_seq_free(&s);
}
END_TEST

/*
 * The lower bound on the same case. Six calls; the calls themselves hold
 * 2+1+1+2+2+3 = 11 MiB-calls. Holds (cost if not kept, room in MiB-calls = size x
 * calls strictly between):
 *   A g0..g4: 4, 2x3 = 6     A after g4 to the end (g5): 2, 2x1 = 2
 *   B g1..g5: 2, 1x3 = 3     B after g5: 1, 0
 *   C after g2 (g3..g5): 1, 1x3 = 3
 *   D g3..g5: 4, 2x1 = 2     D after g5: 2, 0
 * Total cost 16. Most saved per MiB-call first: the free ones (D after, B after:
 * 3), D g3..g5 (2 per), A after (1 per), then B g1..g5 and A g0..g4 (2/3 per,
 * the smaller room first), C (1/3 per).
 *   At 4 MiB: budget 4x6 - 11 = 13: 3 free; D 2 -> 11 left, 7 saved; A after 2
 *   -> 9, 9; B 3 -> 6, 11; A 6 -> 0, 15; C nothing. Bound 16 - 15 = 1 MiB.
 *   At 3.5 MiB: budget 21 - 11 = 10: ... B 3 -> 3 left, 11 saved; A's hold fits
 *   half (3 of 6): 4 x 3/6 = 2 more, 13 saved. Bound 16 - 13 = 3 MiB.
 */
START_TEST(test_min_bound_by_hand)
{
	struct lab_seq s;
	hand_case(&s);
	uint64_t bound;
	ck_assert_int_eq(lab_min_bound(&s, 4 * MiB, &bound), 0);
	ck_assert_uint_eq(bound, 1 * MiB);
	ck_assert_int_eq(lab_min_bound(&s, 7 * MiB / 2, &bound), 0);
	ck_assert_uint_eq(bound, 3 * MiB);
	ck_assert_int_eq(lab_min_bound(&s, 6 * MiB, &bound), 0);
	ck_assert_uint_eq(bound, 0);
	/* One byte more per call is 6 byte-calls more for A's hold, which saves 2/3
	 * of a byte each: 4 bytes less. */
	ck_assert_int_eq(lab_min_bound(&s, 7 * MiB / 2 + 1, &bound), 0);
	ck_assert_uint_eq(bound, 3 * MiB - 4);
	ck_assert_int_eq(lab_min_bound(&s, 3 * MiB - 1, &bound), -ENOSPC);
	lab_seq_free(&s);
}
END_TEST

/*
 * A fraction of a byte: P and Q of 3 bytes, VRAM of 4, calls g0 {P} g1 {Q}
 * g2 {Q} g3 {Q} g4 {P}. The calls hold 15 byte-calls of the 20: 5 to give.
 * Holds: Q g1..g2 and g2..g3 (6 each, free), P after g4 (3, free), Q after g3
 * (3, room 3), P g0..g4 (6, room 9). Total 24; saved 6+6+3, then Q's 3 (2 left),
 * then 2/9 of P's: 6 x 2/9 = 1.33, counted as 2 so that the bound, 24 - 20 = 4,
 * stays at or below the relaxation's 4.67. Belady: Q evicts P (3 out), P evicts
 * Q (3 out) and comes back (3 in): 9.
 */
START_TEST(test_min_bound_rounds_down)
{
	struct lab_seq s;
	uint32_t p, q;
	lab_seq_init(&s);
	ck_assert_int_eq(lab_seq_create(&s, 3, NORMAL, true, &p), 0);
	ck_assert_int_eq(lab_seq_create(&s, 3, NORMAL, true, &q), 0);
	uint32_t order[5] = { p, q, q, q, p };
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(lab_seq_use(&s, &order[i], 1), 0);
	uint64_t bound;
	ck_assert_int_eq(lab_min_bound(&s, 4, &bound), 0);
	ck_assert_uint_eq(bound, 4);
	struct lab_min m;
	ck_assert_int_eq(lab_min_belady(&s, 4, &m), 0);
	ck_assert_uint_eq(m.bytes_out, 6);
	ck_assert_uint_eq(m.bytes_in, 3);
	lab_seq_free(&s);
}
END_TEST

/* GART allocations hold no VRAM and cost nothing; a destroyed allocation leaves
 * for free; equal sizes are Belady's classic case. */
START_TEST(test_min_gart_destroy_equal_sizes)
{
	struct lab_seq s;
	uint32_t x, y, z, g;
	lab_seq_init(&s);
	ck_assert_int_eq(lab_seq_create(&s, 1 * MiB, NORMAL, true, &x), 0);
	ck_assert_int_eq(lab_seq_create(&s, 1 * MiB, NORMAL, true, &y), 0);
	ck_assert_int_eq(lab_seq_create(&s, 8 * MiB, NORMAL, false, &g), 0);
	ck_assert_int_eq(lab_seq_use(&s, (uint32_t[]){ x, g }, 2), 0);
	ck_assert_int_eq(lab_seq_use(&s, (uint32_t[]){ y, g, y }, 3), 0); /* a repeat is dropped */
	ck_assert_uint_eq(s.nuses, 4);
	ck_assert_uint_eq(s.largest_group, 1 * MiB); /* the GART allocation holds no VRAM */
	ck_assert_int_eq(lab_seq_destroy(&s, x), 0);
	ck_assert_int_eq(lab_seq_destroy(&s, x), -EINVAL);
	ck_assert_int_eq(lab_seq_create(&s, 1 * MiB, NORMAL, true, &z), 0);
	ck_assert_int_eq(lab_seq_use(&s, (uint32_t[]){ z }, 1), 0);
	ck_assert_int_eq(lab_seq_use(&s, (uint32_t[]){ y }, 1), 0);
	ck_assert_int_eq(lab_seq_use(&s, (uint32_t[]){ x }, 1), -EINVAL);
	/* Room for one: x comes in; y evicts x (never used again: 1 out); x is
	 * destroyed where it is, in system memory; z evicts y (1 out); y evicts z
	 * (never used again: 1 out) and comes back in with its data (1 in). */
	struct lab_min m;
	uint64_t bound;
	ck_assert_int_eq(lab_min_belady(&s, 1 * MiB, &m), 0);
	ck_assert_uint_eq(m.bytes_out, 3 * MiB);
	ck_assert_uint_eq(m.bytes_in, 1 * MiB);
	ck_assert_int_eq(lab_min_bound(&s, 1 * MiB, &bound), 0);
	ck_assert_uint_le(bound, m.bytes_in + m.bytes_out);
	/* Room for two: x and y; x is destroyed, z takes its place; nothing pages. */
	ck_assert_int_eq(lab_min_belady(&s, 2 * MiB, &m), 0);
	ck_assert_uint_eq(m.bytes_out + m.bytes_in, 0);
	ck_assert_int_eq(lab_min_bound(&s, 2 * MiB, &bound), 0);
	ck_assert_uint_eq(bound, 0);
	lab_seq_free(&s);
}
END_TEST

/* ---- the sequence of a trace --------------------------------------------------------- */

static struct gpusim_event ev(uint32_t type, uint32_t cause, uint32_t alloc, uint64_t size, uint64_t value,
			      uint32_t prio, uint32_t pref)
{
	struct gpusim_event e;
	memset(&e, 0, sizeof(e));
	e.type = type;
	e.cause = cause;
	e.device = 0x40000041;
	e.allocation = alloc;
	e.size = size;
	e.value = value;
	e.priority = prio;
	e.preferred = pref;
	e.segment = pref;
	return e;
}

static void write_trace(const char *path, const struct gpusim_event *evs, size_t n)
{
	struct gpusim_trace_adapter ad;
	memset(&ad, 0, sizeof(ad));
	ad.vram = 16 * MiB;
	ad.visible = 4 * MiB;
	ad.gart = 8 * MiB;
	ad.sysmem = 64 * MiB;
	snprintf(ad.policy, sizeof(ad.policy), "lru");
	struct gpusim_trace_writer *w = gpusim_trace_create(path, &ad);
	ck_assert_ptr_nonnull(w);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(gpusim_trace_event(w, &evs[i]), 0);
	ck_assert_int_eq(gpusim_trace_close(w), 0);
}

#define X 0x40000081u
#define Y 0x400000c1u
#define Z 0x40000101u
#define VIS GPUSIM_SEG_VISIBLE
#define INV GPUSIM_SEG_INVISIBLE
#define GART GPUSIM_SEG_GART
#define R GPUSIM_CAUSE_RENDER
#define MR GPUSIM_CAUSE_MAKE_RESIDENT

/* How events become steps: a run of USEs of one call is one group; SUBMIT and
 * BUDGET end one; a USE of an unknown handle creates it; a priority seen changed
 * comes before the call; a CREATE of a live handle replaces it; a GART
 * allocation is not VRAM. */
START_TEST(test_seq_from_events)
{
	struct gpusim_event e[] = {
		ev(GPUSIM_EV_PLACE, GPUSIM_CAUSE_CREATE, X, 1 * MiB, 0, NORMAL, INV), /* before its CREATE */
		ev(GPUSIM_EV_CREATE, GPUSIM_CAUSE_CREATE, X, 1 * MiB, 0, NORMAL, INV),
		ev(GPUSIM_EV_CREATE, GPUSIM_CAUSE_CREATE, Y, 2 * MiB, 0, NORMAL, GART),
		ev(GPUSIM_EV_USE, R, X, 1 * MiB, 1, NORMAL, INV),
		ev(GPUSIM_EV_USE, R, Y, 2 * MiB, 1, NORMAL, GART),
		ev(GPUSIM_EV_USE, R, X, 1 * MiB, 1, NORMAL, INV), /* listed twice */
		ev(GPUSIM_EV_SUBMIT, R, 0, 0, 1, 0, 0),
		ev(GPUSIM_EV_USE, MR, X, 1 * MiB, 0, NORMAL, INV),
		ev(GPUSIM_EV_BUDGET, MR, 0, 0, 0, 0, 0),
		ev(GPUSIM_EV_USE, MR, X, 1 * MiB, 0, LOW, INV), /* same value: still another call */
		ev(GPUSIM_EV_USE, MR, Z, 3 * MiB, 0, NORMAL, VIS), /* never created in the trace */
		ev(GPUSIM_EV_BUDGET, MR, 0, 0, 0, 0, 0),
		ev(GPUSIM_EV_CREATE, GPUSIM_CAUSE_CREATE, X, 4 * MiB, 0, NORMAL, VIS), /* the old X is gone */
		ev(GPUSIM_EV_USE, R, X, 4 * MiB, 2, NORMAL, VIS),
		ev(GPUSIM_EV_USE, R, Z, 3 * MiB, 3, NORMAL, VIS), /* another fence: another call */
		ev(GPUSIM_EV_DESTROY, GPUSIM_CAUSE_DESTROY, Y, 2 * MiB, 0, NORMAL, GART),
		ev(GPUSIM_EV_DESTROY, GPUSIM_CAUSE_DESTROY, Y, 2 * MiB, 0, NORMAL, GART), /* again: ignored */
	};
	write_trace(in_dir("t.trace"), e, sizeof(e) / sizeof(e[0]));
	struct lab_seq s;
	char err[512] = "";
	ck_assert_msg(lab_seq_load(&s, in_dir("t.trace"), err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(s.adapter.vram, 16 * MiB);
	ck_assert_uint_eq(s.nallocs, 4); /* X, Y, Z, the second X */
	ck_assert_uint_eq(s.allocs[0].handle, X);
	ck_assert(s.allocs[0].vram);
	ck_assert(!s.allocs[1].vram);
	ck_assert_uint_eq(s.allocs[2].handle, Z);
	ck_assert_uint_eq(s.allocs[2].size, 3 * MiB);
	ck_assert_uint_eq(s.allocs[3].handle, X);
	ck_assert_uint_eq(s.allocs[3].size, 4 * MiB);
	ck_assert_uint_eq(s.vram_allocs, 3);
	ck_assert_uint_eq(s.submits, 1);
	/* The steps in order. */
	static const struct {
		uint32_t kind, alloc;
		size_t n;
	} want[] = {
		{ LAB_CREATE, 0, 0 }, { LAB_CREATE, 1, 0 }, { LAB_USE, 0, 2 },  { LAB_USE, 0, 1 },
		{ LAB_PRIORITY, 0, 0 }, { LAB_CREATE, 2, 0 }, { LAB_USE, 0, 2 }, { LAB_DESTROY, 0, 0 },
		{ LAB_CREATE, 3, 0 }, { LAB_USE, 0, 1 },     { LAB_USE, 0, 1 },  { LAB_DESTROY, 1, 0 },
	};
	ck_assert_uint_eq(s.nsteps, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < s.nsteps; i++) {
		ck_assert_msg(s.steps[i].kind == want[i].kind, "step %zu is kind %u, expected %u", i, s.steps[i].kind,
			      want[i].kind);
		if (want[i].kind == LAB_USE)
			ck_assert_uint_eq(s.steps[i].n, want[i].n);
		else
			ck_assert_uint_eq(s.steps[i].alloc, want[i].alloc);
	}
	ck_assert_uint_eq(s.steps[4].priority, LOW);
	ck_assert_uint_eq(s.ngroups, 5);
	ck_assert_uint_eq(s.uses[s.steps[2].first], 0);
	ck_assert_uint_eq(s.uses[s.steps[2].first + 1], 1);
	ck_assert_uint_eq(s.uses[s.steps[6].first + 1], 2);
	ck_assert_uint_eq(s.uses[s.steps[9].first], 3);
	ck_assert_uint_eq(s.largest_group, 4 * MiB); /* X (1) + Z (3); the GART Y counts nothing */
	ck_assert_uint_eq(s.largest_alloc, 4 * MiB);
	lab_seq_free(&s);
}
END_TEST

/* ---- a scenario recorded with gpusim trace -------------------------------------------- */

/* On an adapter made exactly as the lab makes its own (vram = visible, a 4 MiB
 * GART, system memory the peak plus 64 MiB), allocations the lab creates alike
 * (visible VRAM only) and only submissions: the lab's replay of the trace must
 * page what the recorded run paged, byte for byte. Room for two of the three. */
#define LAB_SCENARIO(policy)                                        \
	"adapter vram=5M visible=5M gart=4M sysmem=70M policy=" policy "\n" \
	"alloc a size=2M only=visible\n"                             \
	"alloc b size=2M only=visible\n"                             \
	"alloc c size=2M only=visible\n"                             \
	"submit a\n"                                                 \
	"submit b\n"                                                 \
	"submit c\n"                                                 \
	"submit a\n"                                                 \
	"priority b low\n"                                           \
	"submit b\n"                                                 \
	"submit c\n"                                                 \
	"free c\n"                                                   \
	"submit a b\n"

static uint64_t paged_in_trace(const char *path)
{
	struct vm_recording rec;
	struct vm_model m;
	char err[512];
	ck_assert_msg(vm_recording_load(&rec, path, err, sizeof(err)) == 0, "%s", err);
	vm_replay(&m, &rec, rec.nitems);
	uint64_t bytes = m.bytes_in + m.bytes_out;
	vm_free(&m);
	vm_recording_free(&rec);
	return bytes;
}

/*
 * Its sequence: g0 {a} g1 {b} g2 {c} g3 {a} (b low) g4 {b} g5 {c} (free c) g6 {a, b}.
 * Belady with room for two 2 MiB allocations:
 *   g2 c: of a (g3) and b (g4), b out 2;  g4 b: of a (g6) and c (g5), a out 2, b in 2;
 *   g6 a in 2 (c is gone). Out 4 + in 4 = 8 MiB.
 */
START_TEST(test_lab_gpusim_trace)
{
	const char *policies[2] = { "lru", "priority-lru" };
	for (int p = 0; p < 2; p++) {
		char text[1024], cmd[4608];
		snprintf(text, sizeof(text), LAB_SCENARIO("%s"), policies[p]);
		write_text(in_dir("lab.gsim"), text);
		snprintf(cmd, sizeof(cmd), "'%s' trace -q lab.gsim -o lab.trace", gpusim());
		struct run r = sh(cmd);
		ck_assert_msg(r.status == 0, "gpusim trace: exit %d: %s", r.status, r.err);
		run_free(&r);
		uint64_t recorded = paged_in_trace(in_dir("lab.trace"));

		struct lab_seq s;
		char err[512] = "";
		ck_assert_msg(lab_seq_load(&s, in_dir("lab.trace"), err, sizeof(err)) == 0, "%s", err);
		ck_assert_uint_eq(s.nallocs, 3);
		ck_assert_uint_eq(s.ngroups, 7);
		ck_assert_uint_eq(s.nuses, 8);
		ck_assert_uint_eq(s.submits, 7);
		char spec[256];
		lab_adapter_spec(&s, 5 * MiB, policies[p], spec, sizeof(spec));
		char want[128];
		snprintf(want, sizeof(want), "vram=5242880,visible=5242880,gart=4194304,sysmem=73400320,policy=%s",
			 policies[p]);
		ck_assert_str_eq(spec, want); /* the scenario's adapter */
		uint64_t usable;
		ck_assert_int_eq(lab_capacity(&s, 5 * MiB, &usable, err, sizeof(err)), 0);
		ck_assert_uint_ge(usable, 4 * MiB);
		ck_assert_uint_lt(usable, 5 * MiB);

		struct lab_replay rp;
		ck_assert_msg(lab_replay(&s, 5 * MiB, policies[p], &rp, err, sizeof(err)) == 0, "%s", err);
		ck_assert_uint_gt(recorded, 0);
		ck_assert_uint_eq(rp.bytes_in + rp.bytes_out, recorded);
		struct lab_min m;
		uint64_t bound;
		ck_assert_int_eq(lab_min_belady(&s, usable, &m), 0);
		ck_assert_uint_eq(m.bytes_out, 4 * MiB);
		ck_assert_uint_eq(m.bytes_in, 4 * MiB);
		ck_assert_int_eq(lab_min_bound(&s, usable, &bound), 0);
		ck_assert_uint_le(bound, m.bytes_in + m.bytes_out);
		ck_assert_uint_le(bound, recorded);

		/* The program says the same, in JSON. */
		snprintf(cmd, sizeof(cmd), "--json --vram 5M --policy %s lab.trace", policies[p]);
		r = lab(cmd);
		ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
		ck_assert_str_eq(r.err, "");
		json_error_t je;
		json_t *root = json_loads(r.out, 0, &je);
		ck_assert_msg(root != NULL, "%s\n%s", je.text, r.out);
		json_t *t = json_array_get(json_object_get(root, "traces"), 0);
		ck_assert_str_eq(json_string_value(json_object_get(t, "file")), "lab.trace");
		ck_assert_int_eq(json_integer_value(json_object_get(t, "calls")), 7);
		json_t *z = json_array_get(json_object_get(t, "sizes"), 0);
		ck_assert_int_eq(json_integer_value(json_object_get(z, "vram")), 5 * MiB);
		ck_assert_int_eq(json_integer_value(json_object_get(z, "usable")), (json_int_t)usable);
		ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(z, "min"), "bytes")), 8 * MiB);
		ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(z, "bound"), "bytes")),
				 (json_int_t)bound);
		json_t *pol = json_object_get(z, "policies");
		ck_assert_uint_eq(json_array_size(pol), 1);
		json_t *p0 = json_array_get(pol, 0);
		ck_assert_str_eq(json_string_value(json_object_get(p0, "policy")), policies[p]);
		ck_assert(json_is_null(json_object_get(p0, "error")));
		ck_assert_int_eq(json_integer_value(json_object_get(p0, "bytes")), (json_int_t)recorded);
		ck_assert(json_number_value(json_object_get(p0, "ratio_min")) * 8.0 * MiB > recorded - 1.0);
		ck_assert(json_number_value(json_object_get(p0, "ratio_min")) * 8.0 * MiB < recorded + 1.0);
		json_decref(root);
		run_free(&r);
		lab_seq_free(&s);
	}
}
END_TEST

/* The table: every policy the library lists, the default marked, MIN and the
 * bound, for each size in the order given. */
START_TEST(test_lab_table)
{
	char text[1024], cmd[4608];
	snprintf(text, sizeof(text), LAB_SCENARIO("lru"));
	write_text(in_dir("lab.gsim"), text);
	snprintf(cmd, sizeof(cmd), "'%s' trace -q lab.gsim -o lab.trace", gpusim());
	struct run r = sh(cmd);
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
	r = lab("--vram 5M --vram 8M lab.trace");
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "lab.trace: 3 allocations (3 in VRAM), 8 uses in 7 calls"));
	const char *five = strstr(r.out, "\n        5M ");
	const char *eight = strstr(r.out, "\n        8M ");
	ck_assert_ptr_nonnull(five);
	ck_assert_ptr_nonnull(eight);
	ck_assert(five < eight);
	struct gpusim_config def;
	gpusim_config_default(&def);
	for (unsigned i = 0; gpusim_policy_name(i); i++) {
		char row[64];
		bool is_default = !strcmp(def.policy, gpusim_policy_name(i));
		snprintf(row, sizeof(row), "  %s%s ", gpusim_policy_name(i), is_default ? " *" : "");
		ck_assert_msg(strstr(five, row) != NULL, "no row '%s' in\n%s", row, r.out);
	}
	ck_assert_ptr_nonnull(strstr(five, "  MIN                     8.00      1.00"));
	/* At 8 MiB everything fits: nothing pages, every ratio is 1. */
	ck_assert_ptr_nonnull(strstr(eight, "  MIN                     0.00      1.00      1.00\n"));
	ck_assert_ptr_nonnull(strstr(eight, "  lower bound             0.00      1.00      1.00\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "* the default policy."));
	run_free(&r);
}
END_TEST

/* ---- a trace from a client through GPUSIM_TRACE ------------------------------------------ */

/* tests/trace_client: tex (1 MiB, visible), buf (2 MiB, invisible), staging
 * (512 KiB, GART); MakeResident {tex, buf}, Evict tex, MakeResident {tex}. */
START_TEST(test_lab_client_trace)
{
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "GPUSIM_TRACE=client.trace GPUSIM_CONFIG=vram=16M,visible=4M,gart=8M '%s'", client());
	struct run r = sh(cmd);
	ck_assert_msg(r.status == 0, "trace_client: exit %d: %s", r.status, r.err);
	run_free(&r);

	struct lab_seq s;
	char err[512] = "";
	ck_assert_msg(lab_seq_load(&s, in_dir("client.trace"), err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(s.adapter.vram, 16 * MiB);
	ck_assert_uint_eq(s.nallocs, 3);
	ck_assert_uint_eq(s.vram_allocs, 2);
	ck_assert_uint_eq(s.allocs[0].size, 1 * MiB);
	ck_assert_uint_eq(s.allocs[1].size, 2 * MiB);
	ck_assert(!s.allocs[2].vram); /* staging prefers the GART */
	ck_assert_uint_eq(s.ngroups, 2);
	ck_assert_uint_eq(s.nuses, 3);
	ck_assert_uint_eq(s.largest_group, 3 * MiB);
	ck_assert_uint_eq(s.submits, 0);
	lab_seq_free(&s);

	/* At the VRAM it was recorded with (no --vram) and at 4 MiB: both calls fit,
	 * nothing pages under any policy or in MIN. */
	r = lab("--json client.trace");
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	json_error_t je;
	json_t *root = json_loads(r.out, 0, &je);
	ck_assert_msg(root != NULL, "%s", je.text);
	json_t *t = json_array_get(json_object_get(root, "traces"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(t, "calls")), 2);
	json_t *z = json_array_get(json_object_get(t, "sizes"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(z, "vram")), 16 * MiB);
	size_t n = 0;
	while (gpusim_policy_name((unsigned)n))
		n++;
	json_t *pol = json_object_get(z, "policies");
	ck_assert_uint_eq(json_array_size(pol), n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(json_string_value(json_object_get(json_array_get(pol, i), "policy")),
				 gpusim_policy_name((unsigned)i));
		ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(pol, i), "bytes")), 0);
		ck_assert(json_number_value(json_object_get(json_array_get(pol, i), "ratio_min")) == 1.0);
	}
	json_decref(root);
	run_free(&r);

	r = lab("--vram 4M client.trace");
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "client.trace: 3 allocations (2 in VRAM), 3 uses in 2 calls"));
	ck_assert_ptr_nonnull(strstr(r.out, "  MIN                     0.00      1.00      1.00\n"));
	run_free(&r);

	/* 3 MiB leave less than the 3 MiB the first call needs at once. */
	r = lab("--vram 3M client.trace");
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "gpusim lab: client.trace: --vram 3M leaves ") &&
			      strstr(r.err, " MiB usable; the trace needs 3.00 MiB in VRAM at once\n"),
		      "%s", r.err);
	ck_assert_str_eq(r.out, "");
	run_free(&r);
}
END_TEST

/* ---- bad input ------------------------------------------------------------------------------ */

START_TEST(test_lab_errors)
{
	struct gpusim_event e[] = { ev(GPUSIM_EV_CREATE, GPUSIM_CAUSE_CREATE, X, 1 * MiB, 0, NORMAL, INV),
				    ev(GPUSIM_EV_CREATE, GPUSIM_CAUSE_CREATE, Y, 1 * MiB, 0, NORMAL, INV) };
	write_trace(in_dir("good.trace"), e, 2);
	write_text(in_dir("text.trace"), "not a trace\n");
	/* good.trace with one byte of its first event's payload flipped: the header
	 * (16 bytes) and the adapter record (8 + 112, trace version 2) come first, the
	 * event's record at byte 136, its payload at 144. */
	write_trace(in_dir("bad.trace"), e, 2);
	FILE *f = fopen(in_dir("bad.trace"), "r+b");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 146, SEEK_SET), 0);
	int byte = fgetc(f);
	ck_assert_int_eq(fseek(f, 146, SEEK_SET), 0);
	fputc(byte ^ 0xff, f);
	ck_assert_int_eq(fclose(f), 0);
	/* Submissions without their uses: a trace from before USE events. */
	struct gpusim_event old[] = { ev(GPUSIM_EV_CREATE, GPUSIM_CAUSE_CREATE, X, 1 * MiB, 0, NORMAL, INV),
				      ev(GPUSIM_EV_SUBMIT, R, 0, 0, 1, 0, 0), ev(GPUSIM_EV_SUBMIT, R, 0, 0, 2, 0, 0) };
	write_trace(in_dir("old.trace"), old, 3);

	static const struct {
		const char *args, *err;
	} cases[] = {
		{ "missing.trace", "gpusim lab: missing.trace: No such file or directory\n" },
		{ "text.trace", "gpusim lab: text.trace: not a gpusim trace (bad magic)\n" },
		{ "bad.trace", "gpusim lab: bad.trace: corrupt record at byte 136 (CRC mismatch)\n" },
		{ "old.trace",
		  "gpusim lab: old.trace: no 'use' events for its 2 submissions and residency calls (a trace from an "
		  "older gpusim: record it again)\n" },
		{ "good.trace missing.trace", "gpusim lab: missing.trace: No such file or directory\n" },
		{ "--vram 12X good.trace", "gpusim lab: --vram wants a size, a non-zero multiple of 4K (12M, 1G), not '12X'\n" },
		{ "--vram 5000 good.trace", "gpusim lab: --vram wants a size, a non-zero multiple of 4K (12M, 1G), not '5000'\n" },
		{ "--vram 0 good.trace", "gpusim lab: --vram wants a size, a non-zero multiple of 4K (12M, 1G), not '0'\n" },
		{ "--vram 64K good.trace",
		  "gpusim lab: good.trace: --vram 64K: too small for an adapter (the driver's own structures live in VRAM)\n" },
		{ "--policy fifo good.trace", "gpusim lab: unknown policy 'fifo' (" },
		{ "--vram", "gpusim lab: --vram needs a value\n" },
		{ "--bogus good.trace", "gpusim lab: unknown option '--bogus'\n" },
		{ "", "gpusim lab: no trace given\n" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r = lab(cases[i].args);
		ck_assert_msg(r.status == 2, "'%s': exit %d, expected 2: %s", cases[i].args, r.status, r.err);
		ck_assert_msg(!strncmp(r.err, cases[i].err, strlen(cases[i].err)), "'%s': stderr\n%s\nexpected\n%s",
			      cases[i].args, r.err, cases[i].err);
		ck_assert_msg(r.out[0] == '\0', "'%s': printed a report:\n%s", cases[i].args, r.out);
		run_free(&r);
	}
	/* The unknown policy's message lists every policy. */
	struct run r = lab("--policy fifo good.trace");
	for (unsigned i = 0; gpusim_policy_name(i); i++)
		ck_assert_ptr_nonnull(strstr(r.err, gpusim_policy_name(i)));
	run_free(&r);
	/* A trace with nothing to use is not an error: nothing pages. */
	r = lab("--vram 4M good.trace");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "good.trace: 2 allocations (2 in VRAM), 0 uses in 0 calls"));
	run_free(&r);
	r = lab("--help");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "usage: gpusim lab "));
	run_free(&r);
}
END_TEST

Suite *sim_lab_suite(void)
{
	Suite *s = suite_create("sim_lab");
	TCase *tc = tcase_create("min");
	tcase_add_test(tc, test_min_belady_by_hand);
	tcase_add_test(tc, test_min_bound_by_hand);
	tcase_add_test(tc, test_min_bound_rounds_down);
	tcase_add_test(tc, test_min_gart_destroy_equal_sizes);
	suite_add_tcase(s, tc);

	tc = tcase_create("traces");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_seq_from_events);
	tcase_add_test(tc, test_lab_gpusim_trace);
	tcase_add_test(tc, test_lab_table);
	tcase_add_test(tc, test_lab_client_trace);
	tcase_add_test(tc, test_lab_errors);
	suite_add_tcase(s, tc);
	return s;
}
