/*
 * Freed memory is not in a snapshot: tests/scenarios/freed-memory-released.gsim
 * writes, moves and frees 240 MiB, keeps 208 KiB, and snapshots; its file's
 * loadable bytes are at most 1.1 times the live bytes plus the driver's structures.
 */
#include <config.h>

#include <check.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gpusim/snapshot.h>
#include "sim/elf/snapfile.h"
#include "sim/scenario/scenario.h"
#include "tests/sim/sim_suites.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)

/* Run a scenario file from the source tree in a scratch directory (its snapshot
 * paths are relative to the current directory); the scratch directory's path. */
static void run_in(const char *name, char *dir, size_t dirlen)
{
	const char *src = getenv("srcdir");
	char path[1024], cwd[1024];
	snprintf(path, sizeof(path), "%s/tests/scenarios/%s", src ? src : ".", name);
	if (path[0] != '/') {
		ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
		char rel[1024];
		snprintf(rel, sizeof(rel), "%s", path);
		snprintf(path, sizeof(path), "%.500s/%.500s", cwd, rel);
	}
	snprintf(dir, dirlen, "/tmp/gpusim-release.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	struct scn_script s;
	struct scn_error e;
	memset(&s, 0, sizeof(s));
	memset(&e, 0, sizeof(e));
	ck_assert_msg(scn_parse_file(path, &s, &e) == 0, "%s:%u:%u: %s", path, e.line, e.col, e.msg);
	ck_assert_msg(scn_check(&s, &e) == 0, "%s:%u:%u: %s", path, e.line, e.col, e.msg);
	char *out = NULL, *err = NULL;
	size_t nout = 0, nerr = 0;
	FILE *fo = open_memstream(&out, &nout), *fe = open_memstream(&err, &nerr);
	struct scn_options opt = { .quiet = true, .out = fo, .err = fe };
	struct scn_result res;
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(dir), 0);
	int rc = scn_run(&s, &opt, &res);
	ck_assert_int_eq(chdir(cwd), 0);
	fclose(fo);
	fclose(fe);
	ck_assert_msg(rc == 0 && res.failed == 0 && !res.stopped, "%s failed:\n%s", name, err);
	free(out);
	free(err);
	scn_script_free(&s);
}

/* The PT_LOAD segments of an ELF64 core file, read from its program headers
 * (not through the snapshot reader): their count and bytes, and the bytes at
 * bus addresses below `below`. */
static void loadable(const char *path, uint64_t below, uint64_t *n, uint64_t *bytes, uint64_t *low)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	Elf64_Ehdr eh;
	ck_assert_uint_eq(fread(&eh, sizeof(eh), 1, f), 1);
	ck_assert_int_eq(memcmp(eh.e_ident, ELFMAG, SELFMAG), 0);
	ck_assert_uint_eq(eh.e_type, ET_CORE);
	ck_assert_uint_ne(eh.e_phnum, PN_XNUM);
	*n = *bytes = *low = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		ck_assert_int_eq(fseek(f, (long)(eh.e_phoff + (uint64_t)i * eh.e_phentsize), SEEK_SET), 0);
		ck_assert_uint_eq(fread(&ph, sizeof(ph), 1, f), 1);
		if (ph.p_type != PT_LOAD)
			continue;
		(*n)++;
		*bytes += ph.p_filesz;
		/* A range may run from the driver's last page into an allocation. */
		if (ph.p_paddr < below)
			*low += (ph.p_paddr + ph.p_filesz < below ? ph.p_paddr + ph.p_filesz : below) - ph.p_paddr;
	}
	fclose(f);
}

START_TEST(test_freed_memory_not_in_snapshot)
{
	char dir[64], path[128], err[512];
	run_in("freed-memory-released.gsim", dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/freed-memory-released.elf", dir);
	struct gpusim_snapshot *snap;
	ck_assert_msg(snapfile_read(path, &snap, err, sizeof(err)) == 0, "%s", err);
	/* Live: the one allocation left, 208 KiB in visible VRAM. The driver's
	 * structures are below visible VRAM's first allocation address. */
	ck_assert_uint_eq(snap->nallocs, 1);
	const struct gpusim_snapshot_alloc *live = &snap->allocs[0];
	ck_assert_str_eq(live->name, "live");
	ck_assert_uint_eq(live->size, 208 * KIB);
	ck_assert_uint_eq(live->segment, GPUSIM_SEG_VISIBLE);
	uint64_t reserved = live->gpu_address - live->offset;
	ck_assert_uint_lt(reserved, 2 * MIB);
	uint64_t n, bytes, driver;
	loadable(path, reserved, &n, &bytes, &driver);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	printf("freed-memory-released.elf: %llu bytes, %llu PT_LOAD segments, %llu KiB loadable: "
	       "%llu KiB live + %llu KiB of the driver's structures (%.3f x live beyond them)\n",
	       (unsigned long long)st.st_size, (unsigned long long)n, (unsigned long long)(bytes / KIB),
	       (unsigned long long)(live->size / KIB), (unsigned long long)(driver / KIB),
	       (double)(bytes - driver) / (double)live->size);
	ck_assert_uint_gt(n, 0);
	ck_assert_msg(bytes <= live->size + live->size / 10 + driver,
		      "%llu loadable bytes for %llu live and %llu of the driver's", (unsigned long long)bytes,
		      (unsigned long long)live->size, (unsigned long long)driver);
	/* And not by luck: the live bytes themselves are all there. */
	ck_assert_uint_ge(bytes - driver, live->size);
	/* The file as a whole: the ranges plus notes of a few hundred KiB. */
	ck_assert_uint_lt((uint64_t)st.st_size, bytes + MIB);
	snapfile_free(snap);
	unlink(path);
	rmdir(dir);
}
END_TEST

Suite *sim_release_suite(void)
{
	Suite *s = suite_create("sim: freed memory is not in a snapshot");
	TCase *tc = tcase_create("release");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_freed_memory_not_in_snapshot);
	suite_add_tcase(s, tc);
	return s;
}
