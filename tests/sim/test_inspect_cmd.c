/*
 * `gpusim inspect` and `gpusim view SNAPSHOT` as a person runs them: the
 * hand-built snapshot written with snapfile_write, then the program run on it
 * (GPUSIM names it under make check; ./sim/gpusim otherwise): the report, the
 * JSON, the viewer's JSON and screenshot, and one message and exit status 2 (1
 * for view) for a file that is missing, truncated or not a snapshot.
 */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/elf/snapfile.h"
#include "sim/inspect.h"
#include "sim/view/model.h"
#include "tests/sim/sim_suites.h"
#include "tests/sim/snap_fixture.h"

static char dir[64];
static char snap_path[128];

/* Absolute: the program runs inside the scratch directory, so that a scenario's
 * `snapshot FILE` lands there and not in the directory the tests run from. */
static const char *gpusim(void)
{
	static char path[4096];
	const char *g = getenv("GPUSIM");
	if (!path[0])
		ck_assert_msg(realpath(g && *g ? g : "./sim/gpusim", path) != NULL, "no gpusim program (set GPUSIM)");
	return path;
}

static void rm_dir(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A scratch directory with the fixture written into it as snap.elf. */
static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/gpusim-inspect-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(snap_path, sizeof(snap_path), "%s/snap.elf", dir);
	struct fx *f = fx_new();
	char err[512] = "";
	ck_assert_msg(snapfile_write(snap_path, &f->s, err, sizeof(err)) == 0, "snapfile_write: %s", err);
	free(f);
}

static void teardown(void)
{
	rm_dir();
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

struct run {
	int status;      /* exit status, or -1 when it did not exit */
	char *out, *err;
};

/* gpusim with these arguments (already quoted for the shell), in the scratch
 * directory. */
static struct run run(const char *args)
{
	char cmd[6144], out[160], err[160];
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(err, sizeof(err), "%s/err", dir);
	snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' %s >'%s' 2>'%s'", dir, gpusim(), args, out, err);
	int st = system(cmd);
	struct run r = { .status = WIFEXITED(st) ? WEXITSTATUS(st) : -1 };
	r.out = slurp(out);
	r.err = slurp(err);
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static char *report_of(const struct gpusim_snapshot *s, int (*fn)(FILE *, const struct gpusim_snapshot *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_int_eq(fn(f, s), 0);
	fclose(f);
	return buf;
}

/* The program prints exactly what sim/inspect.c makes of the table written, so
 * the file lost nothing the report shows; and the lines a person looks for. */
START_TEST(test_inspect_file)
{
	char args[256];
	snprintf(args, sizeof(args), "inspect '%s'", snap_path);
	struct run r = run(args);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	ck_assert_str_eq(r.err, "");
	struct fx *f = fx_new();
	char *want = report_of(&f->s, inspect_text);
	ck_assert_str_eq(r.out, want);
	ck_assert_ptr_nonnull(strstr(r.out, "  0x150  RING1.WPTR       0x00000080\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "  aperture pages 0x0..0x3 "));
	ck_assert_ptr_nonnull(strstr(r.out, "  0x40000081  tex0 "));
	free(want);
	run_free(&r);

	snprintf(args, sizeof(args), "inspect --json '%s'", snap_path);
	r = run(args);
	ck_assert_int_eq(r.status, 0);
	want = report_of(&f->s, inspect_json);
	ck_assert_str_eq(r.out, want);
	json_error_t e;
	json_t *j = json_loads(r.out, 0, &e);
	ck_assert_msg(j != NULL, "%s", e.text);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "allocations")), 5);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "registers")), 6);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "events")), 4);
	ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(j, "gart"), "runs")), 4);
	json_decref(j);
	free(want);
	free(f);
	run_free(&r);
}
END_TEST

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

/* One line, "gpusim inspect: PATH: problem", nothing on stdout, exit 2. */
static void ck_refused(const char *path, const char *cmd)
{
	char args[256], head[256];
	snprintf(args, sizeof(args), "%s '%s'", cmd, path);
	struct run r = run(args);
	ck_assert_msg(r.status == 2, "%s: exit %d", path, r.status);
	ck_assert_str_eq(r.out, "");
	snprintf(head, sizeof(head), "gpusim inspect: %s: ", path);
	ck_assert_msg(!strncmp(r.err, head, strlen(head)), "the message does not start with '%s': %s", head, r.err);
	ck_assert_msg(strlen(r.err) > strlen(head) + 1, "no problem stated: %s", r.err);
	char *nl = strchr(r.err, '\n');
	ck_assert_msg(nl && nl[1] == '\0', "not one line: %s", r.err);
	run_free(&r);
}

START_TEST(test_inspect_bad_files)
{
	char *good = NULL;
	size_t len = 0;
	{
		FILE *f = fopen(snap_path, "rb");
		ck_assert_ptr_nonnull(f);
		FILE *m = open_memstream(&good, &len);
		int c;
		while ((c = fgetc(f)) != EOF)
			fputc(c, m);
		fclose(f);
		fclose(m);
	}
	ck_assert_uint_gt(len, 256);
	char path[160];

	snprintf(path, sizeof(path), "%s/missing.elf", dir);
	ck_refused(path, "inspect");

	snprintf(path, sizeof(path), "%s/truncated.elf", dir);
	write_bytes(path, good, 200);
	ck_refused(path, "inspect");

	snprintf(path, sizeof(path), "%s/half.elf", dir);
	write_bytes(path, good, len / 2);
	ck_refused(path, "inspect --json");

	snprintf(path, sizeof(path), "%s/text.gsim", dir);
	write_bytes(path, "adapter vram=16M\n", 17);
	ck_refused(path, "inspect");

	snprintf(path, sizeof(path), "%s/empty.elf", dir);
	write_bytes(path, "", 0);
	ck_refused(path, "inspect");

	/* 32-bit class: an ELF file, not a snapshot. */
	snprintf(path, sizeof(path), "%s/class32.elf", dir);
	good[4] = 1; /* EI_CLASS = ELFCLASS32 */
	write_bytes(path, good, len);
	ck_refused(path, "inspect");
	free(good);
}
END_TEST

START_TEST(test_inspect_usage)
{
	struct run r = run("inspect");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "gpusim inspect: no snapshot given"));
	ck_assert_ptr_nonnull(strstr(r.err, "usage: gpusim inspect"));
	run_free(&r);
	char args[512];
	snprintf(args, sizeof(args), "inspect '%s' '%s'", snap_path, snap_path);
	r = run(args);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "one snapshot at a time"));
	run_free(&r);
	snprintf(args, sizeof(args), "inspect --yaml '%s'", snap_path);
	r = run(args);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "unknown option '--yaml'"));
	ck_assert_str_eq(r.out, "");
	run_free(&r);
	r = run("inspect --help");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "usage: gpusim inspect [--json] SNAPSHOT.elf"));
	run_free(&r);
	r = run("--help");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "  inspect "));
	run_free(&r);
}
END_TEST

/* A report that cannot be written is an error, not a silent success. */
START_TEST(test_inspect_write_error)
{
	if (access("/dev/full", W_OK))
		return;
	char cmd[6144];
	snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' inspect '%s' >/dev/full 2>err", dir, gpusim(), snap_path);
	int st = system(cmd);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 2);
	char path[160];
	snprintf(path, sizeof(path), "%s/err", dir);
	char *err = slurp(path);
	ck_assert_msg(strstr(err, "gpusim inspect: writing the report of") != NULL, "%s", err);
	free(err);
}
END_TEST

/* `gpusim view SNAPSHOT --dump json` is the model of the snapshot's recording at
 * its end: the table, by segment. */
START_TEST(test_view_snapshot_json)
{
	char args[256];
	snprintf(args, sizeof(args), "view '%s' --dump json", snap_path);
	struct run r = run(args);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	struct fx *f = fx_new();
	struct vm_recording rec;
	char err[256];
	ck_assert_int_eq(vm_recording_from_snapshot(&rec, &f->s, err, sizeof(err)), 0);
	struct vm_model m;
	vm_replay(&m, &rec, rec.nitems);
	char *want = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&want, &len);
	ck_assert_int_eq(vm_dump_json(&m, out), 0);
	fclose(out);
	ck_assert_str_eq(r.out, want);
	json_error_t e;
	json_t *j = json_loads(r.out, 0, &e);
	ck_assert_msg(j != NULL, "%s", e.text);
	json_t *segs = json_object_get(j, "segments");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(segs, 0), "allocations")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(segs, 1), "allocations")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(segs, 2), "allocations")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "time_ns")), 1234567);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "counters"), "evictions")), 9);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "allocations")), 5);
	json_decref(j);
	free(want);
	vm_free(&m);
	vm_recording_free(&rec);
	free(f);
	run_free(&r);

	/* --at 0: before the oldest event, with the counters as they were then. */
	snprintf(args, sizeof(args), "view '%s' --dump json --at 0", snap_path);
	r = run(args);
	ck_assert_int_eq(r.status, 0);
	j = json_loads(r.out, 0, &e);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "counters"), "evictions")), 8);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "allocations")), 0);
	json_decref(j);
	run_free(&r);
}
END_TEST

START_TEST(test_view_snapshot_screenshot)
{
#ifdef HAVE_SDL2
	char args[512], bmp[160];
	snprintf(bmp, sizeof(bmp), "%s/snap.bmp", dir);
	snprintf(args, sizeof(args), "view '%s' --screenshot '%s' --size 640x400", snap_path, bmp);
	struct run r = run(args);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	struct stat st;
	ck_assert_int_eq(stat(bmp, &st), 0);
	ck_assert_int_gt(st.st_size, 640 * 400);
	char *b = slurp(bmp);
	ck_assert(b[0] == 'B' && b[1] == 'M');
	free(b);
	run_free(&r);
#endif
}
END_TEST

START_TEST(test_view_bad_snapshot)
{
	char path[160], args[256], head[256];
	snprintf(path, sizeof(path), "%s/cut.elf", dir);
	char *good = slurp(snap_path);
	write_bytes(path, good, 100);
	free(good);
	snprintf(args, sizeof(args), "view '%s' --dump json", path);
	struct run r = run(args);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	snprintf(head, sizeof(head), "gpusim view: %s: ", path);
	ck_assert_msg(!strncmp(r.err, head, strlen(head)), "%s", r.err);
	run_free(&r);
}
END_TEST

/* ---- a scenario's own snapshot ----------------------------------------------------- */

static json_t *view_json(const char *what)
{
	char args[512];
	snprintf(args, sizeof(args), "view '%s' --dump json", what);
	struct run r = run(args);
	ck_assert_msg(r.status == 0, "view %s: exit %d: %s", what, r.status, r.err);
	json_error_t e;
	json_t *j = json_loads(r.out, 0, &e);
	ck_assert_msg(j != NULL, "%s", e.text);
	run_free(&r);
	return j;
}

static json_t *by_name(json_t *allocs, const char *name)
{
	for (size_t i = 0; i < json_array_size(allocs); i++) {
		json_t *a = json_array_get(allocs, i);
		if (!strcmp(json_string_value(json_object_get(a, "name")), name))
			return a;
	}
	return NULL;
}

/* A scenario that snapshots itself at its end: the viewer shows the snapshot as
 * it shows the scenario's own run at that moment (every allocation by name, in
 * the same place; the same counters and time), and inspect lists every one. */
START_TEST(test_scenario_snapshot_agrees)
{
	static const char scenario[] =
		"adapter vram=8M visible=2M gart=8M sysmem=128M seed=5\n"
		"device second\n"
		"repeat 12 {\n"
		"alloc tex$i size=512K prefer=vram\n"
		"write tex$i seed=$i\n"
		"}\n"
		"alloc staging size=256K prefer=gart cpu\n"
		"alloc pinnedrt size=1M prefer=visible pinned\n"
		"alloc other device=second size=1M prefer=invisible priority=high\n"
		"repeat 6 {\n"
		"submit tex$i staging\n"
		"}\n"
		"resident tex1 tex2\n"
		"lock staging\n"
		"evict tex2\n"
		"free tex5\n"
		"snapshot end.elf\n";
	char path[160];
	snprintf(path, sizeof(path), "%s/s.gsim", dir);
	write_bytes(path, scenario, sizeof(scenario) - 1);
	struct run r = run("run -q s.gsim");
	ck_assert_msg(r.status == 0, "%s", r.err);
	run_free(&r);
	char elf[160];
	snprintf(elf, sizeof(elf), "%s/end.elf", dir);

	json_t *ran = view_json(path), *snap = view_json(elf);
	json_t *ra = json_object_get(ran, "allocations"), *sa = json_object_get(snap, "allocations");
	ck_assert_uint_eq(json_array_size(sa), json_array_size(ra));
	ck_assert_uint_eq(json_array_size(sa), 14);
	for (size_t i = 0; i < json_array_size(ra); i++) {
		json_t *a = json_array_get(ra, i);
		const char *name = json_string_value(json_object_get(a, "name"));
		json_t *b = by_name(sa, name);
		ck_assert_msg(b != NULL, "%s is not in the snapshot's view", name);
		static const char *const keys[] = { "handle", "device", "segment", "size", "offset", "priority", "locked" };
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			ck_assert_msg(json_equal(json_object_get(a, keys[k]), json_object_get(b, keys[k])),
				      "%s: %s differs", name, keys[k]);
	}
	ck_assert(json_equal(json_object_get(ran, "counters"), json_object_get(snap, "counters")));
	ck_assert(json_equal(json_object_get(ran, "segments"), json_object_get(snap, "segments")));
	ck_assert(json_equal(json_object_get(ran, "time_ns"), json_object_get(snap, "time_ns")));
	ck_assert_int_gt(json_integer_value(json_object_get(json_object_get(snap, "counters"), "evictions")), 0);
	json_decref(ran);
	json_decref(snap);

	char args[256];
	snprintf(args, sizeof(args), "inspect '%s'", elf);
	r = run(args);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "allocations (14), by segment and offset"));
	ck_assert_ptr_nonnull(strstr(r.out, " staging "));
	ck_assert_ptr_null(strstr(r.out, " tex5 "));
	ck_assert_ptr_null(strstr(r.out, "(unknown)"));
	run_free(&r);
}
END_TEST

Suite *sim_inspect_cmd_suite(void)
{
	Suite *s = suite_create("sim_inspect_cmd");
	TCase *tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_inspect_file);
	tcase_add_test(tc, test_inspect_bad_files);
	tcase_add_test(tc, test_inspect_usage);
	tcase_add_test(tc, test_inspect_write_error);
	tcase_add_test(tc, test_view_snapshot_json);
	tcase_add_test(tc, test_view_snapshot_screenshot);
	tcase_add_test(tc, test_view_bad_snapshot);
	tcase_add_test(tc, test_scenario_snapshot_agrees);
	suite_add_tcase(s, tc);
	return s;
}
