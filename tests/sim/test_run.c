/*
 * The scenario runner: scripts given as strings are parsed, checked and run, and
 * each command's effect is checked through what the runner reports (its messages,
 * counts and statistics) and through the events it prints in verbose mode.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gpusim/snapshot.h>
#include "sim/elf/snapfile.h"
#include "sim/scenario/scenario.h"
#include "tests/sim/sim_suites.h"

/* Visible ~7.6 MiB (the GART table and rings live there), invisible 24 MiB,
 * GART segment 15 MiB (the top MiB is the paging window). */
#define ADAPTER "adapter vram=32M visible=8M gart=16M sysmem=256M\n"

struct run {
	struct scn_result res;
	int rc;
	char *out, *err;
};

static void run_opts(struct run *r, const char *text, bool verbose, bool quiet, bool progress)
{
	struct scn_script s;
	struct scn_error e;
	memset(&s, 0, sizeof(s));
	memset(&e, 0, sizeof(e));
	ck_assert_msg(scn_parse_string("t.gsim", text, strlen(text), &s, &e) == 0, "parse: %u:%u: %s", e.line,
		      e.col, e.msg);
	ck_assert_msg(scn_check(&s, &e) == 0, "check: %u:%u: %s", e.line, e.col, e.msg);
	size_t nout = 0, nerr = 0;
	memset(r, 0, sizeof(*r));
	FILE *out = open_memstream(&r->out, &nout);
	FILE *err = open_memstream(&r->err, &nerr);
	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(err);
	struct scn_options opt = {
		.quiet = quiet, .verbose = verbose, .progress = progress, .out = out, .err = err,
	};
	r->rc = scn_run(&s, &opt, &r->res);
	fclose(out);
	fclose(err);
	scn_script_free(&s);
}

static void run(struct run *r, const char *text)
{
	run_opts(r, text, false, false, false);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

#define ck_contains(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) != NULL, "'%s' not in:\n%s", (needle), (hay))
#define ck_lacks(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) == NULL, "'%s' unexpectedly in:\n%s", (needle), (hay))

/* Everything held: exit 0, no failure text. */
static void ck_ok(const struct run *r)
{
	ck_assert_msg(r->rc == 0 && r->res.failed == 0 && !r->res.stopped, "run failed:\n%s", r->err);
	ck_assert_str_eq(r->err, "");
}

/* ---- alloc and expect in -------------------------------------------------------- */

START_TEST(test_alloc_placed_by_preference)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc g size=1M prefer=gart\n"
	    "alloc v size=1M prefer=visible\n"
	    "alloc i size=1M prefer=invisible\n"
	    "alloc any size=1M prefer=vram\n"
	    "expect g in gart\n"
	    "expect v in visible\n"
	    "expect i in invisible\n"
	    "expect any in vram\n"
	    "expect g in resident\n");
	ck_ok(&r);
	ck_assert_uint_eq(r.res.commands, 10);
	ck_assert_uint_eq(r.res.expectations, 5 + 1); /* and the end's invariants */
	run_free(&r);
}
END_TEST

START_TEST(test_alloc_only_and_cpu)
{
	struct run r;
	/* A CPU-visible allocation with no preference goes behind BAR2. */
	run(&r, ADAPTER
	    "alloc c size=64K cpu\n"
	    "alloc o size=1M only=gart\n"
	    "expect c in visible\n"
	    "expect o in gart\n");
	ck_ok(&r);
	run_free(&r);
}
END_TEST

START_TEST(test_expect_in_failure_continues)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc o size=1M only=gart\n"
	    "expect o in vram\n"
	    "expect o in sys\n"
	    "echo still running\n"
	    "expect o in gart\n");
	ck_assert_int_eq(r.rc, 1);
	ck_assert(!r.res.stopped);
	ck_assert_uint_eq(r.res.failed, 2);
	ck_assert_uint_eq(r.res.commands, 6);
	ck_contains(r.err, "t.gsim:3: expected o in vram, found gart\n");
	ck_contains(r.err, "t.gsim:4: expected o in sys, found gart\n");
	ck_contains(r.out, "still running\n");
	run_free(&r);
}
END_TEST

START_TEST(test_alloc_failure_stops)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc big size=64M only=visible\n"
	    "echo not reached\n");
	ck_assert_int_eq(r.rc, 1);
	ck_assert(r.res.stopped);
	ck_assert_uint_eq(r.res.commands, 2);
	ck_assert_uint_eq(r.res.failed, 1);
	ck_assert_str_eq(r.err, "t.gsim:2: alloc big: expected STATUS_SUCCESS, got STATUS_NO_VIDEO_MEMORY "
				"(0xc01e0100)\n");
	ck_lacks(r.out, "not reached");
	run_free(&r);
}
END_TEST

START_TEST(test_expect_status_no_video_memory)
{
	struct run r;
	run(&r, ADAPTER
	    "expect status STATUS_NO_VIDEO_MEMORY alloc big size=64M only=visible\n"
	    "alloc small size=1M\n"
	    "expect status STATUS_NO_VIDEO_MEMORY alloc small2 size=1M\n"
	    "expect small in invisible\n");
	ck_assert_int_eq(r.rc, 1);
	ck_assert(!r.res.stopped);
	ck_assert_uint_eq(r.res.expectations, 3 + 1);
	ck_assert_uint_eq(r.res.failed, 1);
	ck_assert_str_eq(r.err, "t.gsim:4: alloc small2: expected STATUS_NO_VIDEO_MEMORY, got STATUS_SUCCESS "
				"(0x00000000)\n");
	run_free(&r);
}
END_TEST

START_TEST(test_alloc_pinned_and_priority)
{
	struct run r;
	run_opts(&r, ADAPTER
		 "alloc p size=1M pinned prefer=visible\n"
		 "alloc h size=1M priority=high\n"
		 "alloc n size=1M priority=0x12345678\n"
		 "show\n",
		 false, false, false);
	ck_ok(&r);
	ck_contains(r.out, "high");
	ck_contains(r.out, "0x12345678");
	run_free(&r);
}
END_TEST

START_TEST(test_alloc_align)
{
	struct run r;
	run_opts(&r, ADAPTER
		 "alloc pad size=4K prefer=invisible\n"
		 "alloc al size=64K align=1M prefer=invisible\n",
		 true, false, false);
	ck_ok(&r);
	const char *p = strstr(r.out, "] create al invisible @0x");
	ck_assert_msg(p != NULL, "no creation event for al in:\n%s", r.out);
	unsigned long off = strtoul(strstr(p, "@0x") + 3, NULL, 16);
	ck_assert_uint_gt(off, 0);
	ck_assert_uint_eq(off % (1024 * 1024), 0);
	run_free(&r);
}
END_TEST

/* ---- write and verify ----------------------------------------------------------------- */

START_TEST(test_write_verify_ranges)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc a size=1M\n"
	    "write a seed=7\n"
	    "verify a seed=7\n"
	    "verify a offset=0x1001 size=0x13 seed=7\n"
	    "verify a offset=0xfff00 seed=7\n"
	    "write a offset=0x2003 size=5 seed=8\n"
	    "verify a offset=0x2003 size=5 seed=8\n"
	    "verify a size=0x2003 seed=7\n"
	    "verify a offset=0x2008 seed=7\n");
	ck_ok(&r);
	ck_assert_uint_eq(r.res.expectations, 6 + 2); /* invariants, written data */
	run_free(&r);
}
END_TEST

START_TEST(test_verify_names_first_bad_byte)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc buf size=64K\n"
	    "write buf seed=1\n"
	    "write buf offset=0x1234 size=16 seed=2\n"
	    "verify buf seed=1\n"
	    "verify buf offset=0x1244 seed=1\n");
	ck_assert_int_eq(r.rc, 1);
	ck_assert(!r.res.stopped);
	ck_assert_uint_eq(r.res.failed, 1);
	ck_contains(r.err, "t.gsim:5: verify buf: byte 0x123");
	/* The second write overlaps 16 bytes; the first one that differs is among them. */
	const char *p = strstr(r.err, "byte 0x");
	ck_assert_ptr_nonnull(p);
	unsigned long off = strtoul(p + 5, NULL, 16);
	ck_assert_uint_ge(off, 0x1234);
	ck_assert_uint_lt(off, 0x1244);
	ck_contains(r.err, ", expected 0x");
	/* Only the verify failed: the end check knows the overlap was overwritten. */
	ck_lacks(r.err, "end:");
	run_free(&r);
}
END_TEST

START_TEST(test_verify_survives_moves)
{
	struct run r;
	/* Written in invisible VRAM (the lock moves it to where the CPU reaches it),
	 * then evicted and paged in again: the bytes follow it. */
	run(&r, ADAPTER
	    "alloc a size=2M prefer=invisible\n"
	    "write a seed=3\n"
	    "resident a\n"
	    "evict a\n"
	    "expect a in sys\n"
	    "submit a\n"
	    "expect a in resident\n"
	    "verify a seed=3\n");
	ck_ok(&r);
	ck_assert_uint_ge(r.res.stats.evictions, 1);
	ck_assert_uint_ge(r.res.stats.page_ins, 1);
	run_free(&r);
}
END_TEST

START_TEST(test_write_outside_allocation_stops)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc a size=1M\n"
	    "write a offset=0xff000 size=0x2000 seed=1\n"
	    "echo not reached\n");
	ck_assert_int_eq(r.rc, 1);
	ck_assert(r.res.stopped);
	ck_assert_str_eq(r.err, "t.gsim:3: write a: bytes 0xff000..0x101000 are outside a (size 0x100000)\n");
	run_free(&r);
}
END_TEST

/* ---- lock, unlock ----------------------------------------------------------------- */

START_TEST(test_lock_nowait_busy)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc big size=16M prefer=invisible\n"
	    "gpu-fill big value=0x5a5a5a5a\n"
	    "expect status STATUS_GRAPHICS_ALLOCATION_BUSY lock big nowait\n"
	    "lock big\n"
	    "unlock big\n"
	    "idle\n"
	    "lock big nowait\n"
	    "unlock big\n");
	ck_ok(&r);
	run_free(&r);
}
END_TEST

START_TEST(test_unlock_not_locked)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc a size=1M\n"
	    "lock a\n"
	    "unlock a\n"
	    "expect status STATUS_INVALID_PARAMETER unlock a\n"
	    "unlock a\n");
	ck_assert_int_eq(r.rc, 1);
	ck_assert(r.res.stopped);
	/* The end checks run after a stop too: the invariants are one more. */
	ck_assert_uint_eq(r.res.expectations, 1 + 1);
	ck_assert_str_eq(r.err, "t.gsim:6: unlock a: expected STATUS_SUCCESS, got STATUS_INVALID_PARAMETER "
				"(0xc000000d)\n");
	run_free(&r);
}
END_TEST

START_TEST(test_lock_moves_out_of_invisible)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc a size=1M only=invisible,visible prefer=invisible\n"
	    "expect a in invisible\n"
	    "lock a\n"
	    "expect a in visible\n"
	    "unlock a\n");
	ck_ok(&r);
	ck_assert_uint_ge(r.res.stats.moves, 1);
	run_free(&r);
}
END_TEST

/* ---- GPU work ---------------------------------------------------------------------- */

START_TEST(test_gpu_fill_stale_faults)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc g size=1M only=gart\n"
	    "resident g\n"
	    "evict g\n"
	    "expect g in sys\n"
	    "gpu-fill g value=7 stale\n"
	    "expect stat faults == 1\n"
	    "expect g in sys\n");
	ck_ok(&r);
	ck_assert_uint_eq(r.res.stats.faults, 1);
	run_free(&r);
}
END_TEST

START_TEST(test_gpu_fill_writes)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc g size=64K only=gart\n"
	    "write g seed=1\n"
	    "gpu-fill g value=0\n"
	    "expect stat faults == 0\n"
	    "verify g seed=1\n");
	/* The fill overwrote the pattern: verify sees zeros, the end check does not
	 * count the bytes as lost. */
	ck_assert_int_eq(r.rc, 1);
	ck_assert_uint_eq(r.res.failed, 1);
	ck_contains(r.err, "t.gsim:6: verify g: byte 0x");
	ck_contains(r.err, " is 0x00, expected 0x");
	ck_lacks(r.err, "end:");
	run_free(&r);
}
END_TEST

START_TEST(test_gpu_copy)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc src size=1M prefer=gart\n"
	    "alloc dst size=2M prefer=invisible\n"
	    "write src seed=9\n"
	    "write dst seed=4\n"
	    "gpu-copy src dst\n"
	    "verify dst size=1M seed=9\n"
	    "verify dst offset=1M seed=4\n"
	    "verify src seed=9\n");
	ck_ok(&r);
	ck_assert_uint_eq(r.res.stats.submits, 1);
	run_free(&r);
}
END_TEST

START_TEST(test_submit_pages_in)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc a size=1M prefer=visible\n"
	    "write a seed=1\n" /* never-written contents are not paged */
	    "resident a\n"
	    "evict a\n"
	    "expect a in sys\n"
	    "submit a\n"
	    "expect a in visible\n"
	    "expect stat submits == 1\n"
	    "expect stat page_ins >= 1\n");
	ck_ok(&r);
	run_free(&r);
}
END_TEST

START_TEST(test_submit_other_device)
{
	struct run r;
	run(&r, ADAPTER
	    "device d1\n"
	    "alloc x device=d1 size=1M\n"
	    "submit device=d1 x\n"
	    "expect status STATUS_INVALID_PARAMETER submit x\n"
	    "alloc y size=1M\n"
	    "expect status STATUS_INVALID_PARAMETER gpu-copy x y\n"
	    "free x y\n"
	    "expect stat allocations == 0\n");
	ck_ok(&r);
	ck_assert_uint_eq(r.res.stats.submits, 1);
	run_free(&r);
}
END_TEST

/* ---- residency and priority ----------------------------------------------------------- */

START_TEST(test_resident_pending)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc a size=1M\n"
	    "expect status STATUS_SUCCESS resident a\n"
	    "evict a\n"
	    "expect a in sys\n"
	    "expect status STATUS_PENDING resident a\n"
	    "expect a in resident\n"
	    "expect status STATUS_INVALID_PARAMETER evict a a\n");
	ck_ok(&r);
	run_free(&r);
}
END_TEST

/* The demotion and promotion counters are statistics a scenario can expect: read
 * from gpusim_get_stats like the others. With one VRAM segment and allocations
 * allowed only there, no placement has a less preferred segment to demote to. */
START_TEST(test_expect_stat_demotions_promotions)
{
	struct run r;
	run(&r, "adapter vram=8M visible=8M gart=16M sysmem=256M\n"
		"alloc a size=3M only=visible\n"
		"write a seed=1\n"
		"alloc b size=3M only=visible\n"
		"alloc c size=3M only=visible\n"
		"submit a\n"
		"expect stat demotions == 0\n"
		"expect stat promotions == 0\n"
		"expect stat promotions == 1\n"
		"expect stat demotions != 0\n");
	ck_assert_int_eq(r.rc, 1);
	ck_assert_uint_eq(r.res.failed, 2);
	ck_assert_uint_eq(r.res.stats.demotions, 0);
	ck_assert_uint_eq(r.res.stats.promotions, 0);
	ck_assert_uint_ge(r.res.stats.evictions, 1);
	ck_contains(r.err, "t.gsim:9: expected stat promotions == 1, found 0\n");
	ck_contains(r.err, "t.gsim:10: expected stat demotions != 0, found 0\n");
	run_free(&r);
}
END_TEST

START_TEST(test_priority_decides_eviction)
{
	struct run r;
	/* No invisible VRAM: three 3 MiB allocations do not fit the ~7.6 MiB. */
	run(&r, "adapter vram=8M visible=8M gart=16M sysmem=256M\n"
		"alloc a size=3M only=visible\n"
		"alloc b size=3M only=visible\n"
		"priority b low\n"
		"alloc c size=3M only=visible\n"
		"expect b in sys\n"
		"expect a in visible\n"
		"expect c in visible\n"
		"expect stat evictions == 1\n");
	ck_ok(&r);
	run_free(&r);
}
END_TEST

/* ---- idle, inject, snapshot ------------------------------------------------------------- */

START_TEST(test_inject_device_removed)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc a size=1M\n"
	    "write a seed=1\n"
	    "inject device-removed\n"
	    "expect status STATUS_DEVICE_REMOVED alloc b size=1M\n"
	    "expect status STATUS_DEVICE_REMOVED idle\n"
	    "alloc c size=1M\n");
	ck_assert_int_eq(r.rc, 1);
	ck_assert(r.res.stopped);
	ck_assert_uint_eq(r.res.failed, 1);
	/* No end checks on a removed device: two expectations only. */
	ck_assert_uint_eq(r.res.expectations, 2);
	ck_assert_str_eq(r.err, "t.gsim:7: alloc c: expected STATUS_SUCCESS, got STATUS_DEVICE_REMOVED "
				"(0xc00002b6)\n");
	run_free(&r);
}
END_TEST

START_TEST(test_inject_sysmem_oom)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc a size=1M\n"
	    "inject sysmem-oom after=0\n"
	    "expect status STATUS_NO_MEMORY alloc b size=1M\n");
	ck_ok(&r);
	run_free(&r);
}
END_TEST

START_TEST(test_inject_dma_error)
{
	struct run r;
	run_opts(&r, ADAPTER
		 "alloc a size=1M prefer=invisible\n"
		 "inject dma-error\n"
		 "gpu-fill a value=1\n"
		 "idle\n"
		 "expect stat faults == 1\n",
		 true, false, false);
	ck_ok(&r);
	ck_contains(r.out, "fault at 0x");
	ck_contains(r.out, "(dma-error)");
	run_free(&r);
}
END_TEST

/* A snapshot file whose scenario state (the CLIENT note) is client, written from
 * an adapter made through the API with one device and one allocation. */
static void write_foreign_snapshot(const char *path, const char *client)
{
	struct gpusim_config cfg;
	gpusim_config_default(&cfg);
	LUID luid;
	gpusim_reset();
	ck_assert_int_eq(gpusim_adapter_create(&cfg, &luid), STATUS_SUCCESS);
	struct gpusim_snapshot *snap;
	ck_assert_int_eq(gpusim_snapshot_take(luid, &snap), STATUS_SUCCESS);
	snap->client = client;
	snap->client_size = client ? strlen(client) : 0;
	char err[256];
	ck_assert_msg(snapfile_write(path, snap, err, sizeof(err)) == 0, "%s", err);
	snap->client = NULL;
	gpusim_snapshot_free(snap);
	gpusim_reset();
}

/* adapter from= refuses a snapshot gpusim run did not write, and a scenario state
 * that names what the snapshot does not hold, at the adapter line. */
START_TEST(test_from_foreign_snapshot)
{
	char dir[] = "/tmp/gpusim-fromXXXXXX", path[64], text[256];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f.elf", dir);
	snprintf(text, sizeof(text), "adapter from=%s\nalloc a size=1M\n", path);
	struct run r;

	write_foreign_snapshot(path, NULL);
	run(&r, text);
	ck_assert_int_eq(r.rc, 1);
	ck_assert(r.res.stopped);
	ck_contains(r.err, "t.gsim:1: adapter from=");
	ck_contains(r.err, "it was not written by gpusim run (no scenario state in it)");
	run_free(&r);

	/* A device whose handles the snapshot does not have. */
	write_foreign_snapshot(path, "gpusim-run 1\ndevice default 1073741889 1073741953\n");
	run(&r, text);
	ck_assert_int_eq(r.rc, 1);
	ck_contains(r.err, "its scenario state line 2 is malformed or names what the snapshot does not hold");
	run_free(&r);

	/* A line cut short, and an unknown kind of line. */
	write_foreign_snapshot(path, "gpusim-run 1\nresource");
	run(&r, text);
	ck_contains(r.err, "its scenario state is cut short at line 2");
	run_free(&r);
	write_foreign_snapshot(path, "gpusim-run 1\nwidget w 1\n");
	run(&r, text);
	ck_contains(r.err, "its scenario state line 2 is malformed");
	run_free(&r);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_snapshot_unwritable)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc a size=1M\n"
	    "snapshot /nonexistent-gpusim-dir/a.elf\n"
	    "echo not reached\n");
	ck_assert_int_eq(r.rc, 1);
	ck_assert(r.res.stopped);
	ck_assert_str_eq(r.err, "t.gsim:3: snapshot /nonexistent-gpusim-dir/a.elf: cannot create: "
			 "No such file or directory\n");
	ck_lacks(r.out, "not reached");
	run_free(&r);
}
END_TEST

/* The snapshot command's file names the scenario's allocations and carries its
 * recent events; the simulation after it goes on unchanged. */
START_TEST(test_snapshot_written)
{
	char dir[] = "/tmp/gpusim-snapXXXXXX", path[64], text[512];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.elf", dir);
	snprintf(text, sizeof(text), ADAPTER "alloc tex size=1M prefer=gart\nwrite tex seed=4\n"
		 "alloc rt size=2M prefer=visible\nsnapshot %s\nverify tex seed=4\n", path);
	struct run r;
	run(&r, text);
	ck_ok(&r);
	struct gpusim_snapshot *snap;
	char err[256];
	ck_assert_msg(snapfile_read(path, &snap, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(snap->nallocs, 2);
	ck_assert_str_eq(snap->allocs[0].name, "tex");
	ck_assert_uint_eq(snap->allocs[0].segment, GPUSIM_SEG_GART);
	ck_assert_str_eq(snap->allocs[1].name, "rt");
	ck_assert_uint_eq(snap->allocs[1].segment, GPUSIM_SEG_VISIBLE);
	ck_assert_uint_gt(snap->nevents, 2);
	bool created = false;
	for (uint32_t i = 0; i < snap->nevents; i++)
		created |= snap->events[i].type == GPUSIM_EV_CREATE &&
			   snap->events[i].allocation == snap->allocs[1].handle;
	ck_assert(created);
	ck_assert_uint_gt(snap->nranges, 0);
	ck_assert_ptr_nonnull(snap->client);
	ck_assert(memmem(snap->client, snap->client_size, "alloc tex default", 17) != NULL);
	snapfile_free(snap);
	unlink(path);
	rmdir(dir);
	run_free(&r);
}
END_TEST

/* ---- show, echo, quiet, verbose ---------------------------------------------------------- */

START_TEST(test_show_table)
{
	struct run r;
	run(&r, ADAPTER
	    "device other\n"
	    "alloc tex size=1M prefer=gart\n"
	    "alloc rt device=other size=2M prefer=visible priority=high\n"
	    "show\n");
	ck_ok(&r);
	ck_contains(r.out, "tex");
	ck_contains(r.out, "default");
	ck_contains(r.out, "other");
	ck_contains(r.out, "1 MiB");
	ck_contains(r.out, "2 MiB");
	ck_contains(r.out, "gart");
	ck_contains(r.out, "high");
	ck_contains(r.out, "visible ");
	ck_contains(r.out, "invisible ");
	run_free(&r);
}
END_TEST

START_TEST(test_echo_and_quiet)
{
	struct run r;
	const char *text = ADAPTER "alloc a size=1M\necho hello, world\nshow\nexpect a in gart\n";
	run(&r, text);
	ck_contains(r.out, "hello, world\n");
	ck_contains(r.out, "invisible");
	ck_contains(r.err, "expected a in gart");
	run_free(&r);
	run_opts(&r, text, true, true, false);
	ck_assert_str_eq(r.out, "");
	ck_contains(r.err, "t.gsim:5: expected a in gart, found invisible");
	run_free(&r);
}
END_TEST

START_TEST(test_verbose_events)
{
	struct run r;
	run_opts(&r, "adapter vram=8M visible=8M gart=16M sysmem=256M\n"
		     "alloc first size=3M only=visible\n"
		     "alloc second size=3M only=visible\n"
		     "alloc third size=3M only=visible\n"
		     "free third\n",
		 true, false, false);
	ck_ok(&r);
	ck_contains(r.out, "] create first visible @0x");
	ck_contains(r.out, "] evict first visible -> sys 3 MiB (pressure)\n");
	ck_contains(r.out, "] destroy third\n");
	ck_contains(r.out, "-- t.gsim:4: alloc third\n");
	ck_assert(r.out[0] == '-' || r.out[0] == '[');
	run_free(&r);
}
END_TEST

/* ---- the end of a run --------------------------------------------------------------------- */

START_TEST(test_end_check_across_many_moves)
{
	struct run r;
	/* Four 3 MiB allocations take turns in ~7.6 MiB of VRAM: every submit pages
	 * one in and another out. Every byte must survive hundreds of trips. */
	run(&r, "adapter vram=8M visible=8M gart=16M sysmem=256M\n"
		"alloc a size=3M only=visible\n"
		"alloc b size=3M only=visible\n"
		"alloc c size=3M only=visible\n"
		"alloc d size=3M only=visible\n"
		"write a seed=1\n"
		"write b seed=2\n"
		"write c seed=3\n"
		"write d offset=0x123 size=0x10000 seed=4\n"
		"repeat 100 {\n"
		"  submit a\n"
		"  submit b\n"
		"  submit c\n"
		"  submit d\n"
		"}\n"
		"expect stat evictions > 200\n"
		"verify c seed=3\n");
	ck_ok(&r);
	ck_assert_uint_gt(r.res.stats.evictions, 200);
	ck_assert_uint_eq(r.res.commands, 1 + 4 + 4 + 400 + 2);
	ck_assert_uint_eq(r.res.expectations, 2 + 2);
	run_free(&r);
}
END_TEST

START_TEST(test_end_check_catches_stale_fill)
{
	struct run r;
	/* `victim` takes the place `old` had; a FILL to old's stale address lands
	 * on victim's bytes, and only the end check can tell. */
	run(&r, "adapter vram=8M visible=8M gart=16M sysmem=256M\n"
		"alloc old size=4M only=visible\n"
		"resident old\n"
		"evict old\n"
		"alloc victim size=4M only=visible\n"
		"write victim seed=5\n"
		"gpu-fill old value=0xdeadbeef stale\n");
	ck_assert_int_eq(r.rc, 1);
	ck_assert(!r.res.stopped);
	ck_assert_uint_eq(r.res.failed, 1);
	ck_contains(r.err, "t.gsim: end: bytes written to victim at line 6 were lost");
	run_free(&r);
}
END_TEST

START_TEST(test_free_forgets_written_ranges)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc a size=1M\n"
	    "write a seed=1\n"
	    "free a\n"
	    "alloc b size=1M\n"
	    "free b\n");
	ck_ok(&r);
	/* Nothing written survives: only the invariants are checked at the end. */
	ck_assert_uint_eq(r.res.expectations, 1);
	run_free(&r);
}
END_TEST

START_TEST(test_resources)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc a size=1M resource=shared_r shared\n"
	    "expect status STATUS_INVALID_PARAMETER alloc b size=1M resource=shared_r\n"
	    "alloc c size=1M resource=r\n"
	    "alloc d size=1M resource=r\n"
	    "expect stat allocations == 3\n"
	    "free c d a\n"
	    "expect stat allocations == 0\n");
	ck_ok(&r);
	run_free(&r);
}
END_TEST

/* ---- statistics, summary, determinism ------------------------------------------------------ */

START_TEST(test_expect_stat_keys)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc a size=1M prefer=invisible\n"
	    "alloc g size=1M only=gart\n"
	    "resident a g\n"
	    "gpu-fill a value=1\n"
	    "expect stat allocations == 2\n"
	    "expect stat submits == 1\n"
	    "expect stat time > 0\n"
	    "expect stat usage.local >= 1M\n"
	    "expect stat budget.local > 0\n"
	    "expect stat usage.nonlocal == 1M\n"
	    "expect stat budget.nonlocal > 0\n"
	    "expect stat evictions == 0\n"
	    "expect stat moves == 0\n"
	    "expect stat bytes_in == 0\n"
	    "expect stat bytes_out == 0\n"
	    "expect stat page_ins != 1\n"
	    "expect stat faults <= 0\n"
	    "expect stat submits < 1\n");
	ck_assert_int_eq(r.rc, 1);
	ck_assert_uint_eq(r.res.failed, 1);
	ck_assert_str_eq(r.err, "t.gsim:19: expected stat submits < 1, found 1\n");
	run_free(&r);
}
END_TEST

START_TEST(test_summary_counts)
{
	struct run r;
	run(&r, ADAPTER
	    "alloc a size=1M\n"
	    "write a seed=1\n"
	    "verify a seed=1\n"
	    "expect a in vram\n"
	    "expect a in gart\n"
	    "expect stat allocations == 1\n"
	    "idle\n");
	ck_assert_int_eq(r.rc, 1);
	ck_assert_uint_eq(r.res.commands, 8);
	/* verify, three expects, the invariants and the written data */
	ck_assert_uint_eq(r.res.expectations, 6);
	ck_assert_uint_eq(r.res.failed, 1);
	ck_assert(!r.res.stopped);
	ck_assert_uint_eq(r.res.stats.allocations, 1);
	run_free(&r);

	run(&r, ADAPTER "alloc a size=1M\nexpect a in vram\n");
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(r.res.commands, 3);
	ck_assert_uint_eq(r.res.expectations, 2);
	run_free(&r);
}
END_TEST

START_TEST(test_deterministic)
{
	const char *text = "adapter vram=8M visible=8M gart=16M sysmem=256M seed=3\n"
			   "alloc a size=3M only=visible\n"
			   "alloc b size=3M only=visible\n"
			   "alloc c size=3M only=visible\n"
			   "write a seed=1\n"
			   "write c seed=2\n"
			   "repeat 20 {\n"
			   "  gpu-copy a b\n"
			   "  submit c\n"
			   "}\n"
			   "show\n";
	struct run r1, r2;
	run_opts(&r1, text, true, false, false);
	run_opts(&r2, text, true, false, false);
	ck_ok(&r1);
	ck_assert_str_eq(r1.out, r2.out);
	ck_assert_str_eq(r1.err, r2.err);
	ck_assert_uint_eq(r1.res.stats.time_ns, r2.res.stats.time_ns);
	ck_assert_uint_eq(r1.res.stats.evictions, r2.res.stats.evictions);
	ck_assert_uint_gt(r1.res.stats.evictions, 10);
	run_free(&r1);
	run_free(&r2);
}
END_TEST

START_TEST(test_progress_bar)
{
	struct run r;
	run_opts(&r, ADAPTER "alloc a size=4K\nrepeat 2500 {\n  submit a\n}\n", false, false, true);
	ck_assert_int_eq(r.rc, 0);
	ck_contains(r.err, "\r[");
	ck_contains(r.err, "100%");
	/* The line is cleared at the end: the last thing written is a carriage return. */
	ck_assert(r.err[strlen(r.err) - 1] == '\r');
	run_free(&r);
	/* Short runs draw nothing. */
	run_opts(&r, ADAPTER "alloc a size=4K\nsubmit a\n", false, false, true);
	ck_assert_str_eq(r.err, "");
	run_free(&r);
}
END_TEST

START_TEST(test_default_adapter_and_seed)
{
	struct run r;
	/* No adapter command: the defaults (64 MiB visible). */
	run(&r, "alloc a size=32M only=visible\nexpect a in visible\n"
		"expect stat budget.local > 250M\n");
	ck_ok(&r);
	run_free(&r);
}
END_TEST

START_TEST(test_stopped_run_cleans_up)
{
	struct run r;
	/* Stopped with allocations live, one of them locked, work queued and a
	 * second device: the runner frees all of it (valgrind checks). */
	run(&r, ADAPTER
	    "device d2\n"
	    "alloc a size=1M\n"
	    "alloc b device=d2 size=1M resource=r\n"
	    "lock a\n"
	    "gpu-fill b value=3\n"
	    "alloc big size=64M only=visible\n");
	ck_assert(r.res.stopped);
	ck_assert_int_eq(r.rc, 1);
	run_free(&r);
	/* And the next run starts from a clean slate. */
	run(&r, ADAPTER "alloc a size=1M\nexpect stat allocations == 1\n");
	ck_ok(&r);
	run_free(&r);
}
END_TEST

Suite *sim_run_suite(void)
{
	Suite *s = suite_create("sim_run");
	TCase *tc = tcase_create("run");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_alloc_placed_by_preference);
	tcase_add_test(tc, test_alloc_only_and_cpu);
	tcase_add_test(tc, test_expect_in_failure_continues);
	tcase_add_test(tc, test_alloc_failure_stops);
	tcase_add_test(tc, test_expect_status_no_video_memory);
	tcase_add_test(tc, test_alloc_pinned_and_priority);
	tcase_add_test(tc, test_alloc_align);
	tcase_add_test(tc, test_write_verify_ranges);
	tcase_add_test(tc, test_verify_names_first_bad_byte);
	tcase_add_test(tc, test_verify_survives_moves);
	tcase_add_test(tc, test_write_outside_allocation_stops);
	tcase_add_test(tc, test_lock_nowait_busy);
	tcase_add_test(tc, test_unlock_not_locked);
	tcase_add_test(tc, test_lock_moves_out_of_invisible);
	tcase_add_test(tc, test_gpu_fill_stale_faults);
	tcase_add_test(tc, test_gpu_fill_writes);
	tcase_add_test(tc, test_gpu_copy);
	tcase_add_test(tc, test_submit_pages_in);
	tcase_add_test(tc, test_submit_other_device);
	tcase_add_test(tc, test_resident_pending);
	tcase_add_test(tc, test_priority_decides_eviction);
	tcase_add_test(tc, test_expect_stat_demotions_promotions);
	tcase_add_test(tc, test_inject_device_removed);
	tcase_add_test(tc, test_inject_sysmem_oom);
	tcase_add_test(tc, test_inject_dma_error);
	tcase_add_test(tc, test_snapshot_unwritable);
	tcase_add_test(tc, test_from_foreign_snapshot);
	tcase_add_test(tc, test_snapshot_written);
	tcase_add_test(tc, test_show_table);
	tcase_add_test(tc, test_echo_and_quiet);
	tcase_add_test(tc, test_verbose_events);
	tcase_add_test(tc, test_end_check_across_many_moves);
	tcase_add_test(tc, test_end_check_catches_stale_fill);
	tcase_add_test(tc, test_free_forgets_written_ranges);
	tcase_add_test(tc, test_resources);
	tcase_add_test(tc, test_expect_stat_keys);
	tcase_add_test(tc, test_summary_counts);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_progress_bar);
	tcase_add_test(tc, test_default_adapter_and_seed);
	tcase_add_test(tc, test_stopped_run_cleans_up);
	suite_add_tcase(s, tc);
	return s;
}
