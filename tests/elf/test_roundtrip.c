/*
 * Snapshot files that are right: a hand-built snapshot written and read back equal
 * in every field and byte, the bytes laid out as SNAPSHOT.md says (checked against
 * the tests' own writer), readelf's view of them, their size on disk, and the
 * writer refusing what it must not write.
 */
#include <config.h>

#include <check.h>
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/elf/snapfile.h"
#include "tests/elf/elf_suites.h"
#include "tests/elf/forge.h"
#include "tests/elf/sample.h"
#include "tests/elf/scratch.h"
#include "tests/elf/seeds.h"

static uint64_t le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static struct gpusim_snapshot *read_ok(const char *path)
{
	struct gpusim_snapshot *snap = NULL;
	char err[256] = "";
	ck_assert_msg(snapfile_read(path, &snap, err, sizeof(err)) == 0, "read: %s", err);
	ck_assert_ptr_nonnull(snap);
	return snap;
}

static void write_ok(const char *path, const struct gpusim_snapshot *snap)
{
	char err[256] = "";
	ck_assert_msg(snapfile_write(path, snap, err, sizeof(err)) == 0, "write: %s", err);
}

START_TEST(test_round_trip)
{
	struct sample s;
	sample_build(&s);
	const char *path = scratch_path("sample.elf");
	write_ok(path, &s.snap);
	struct gpusim_snapshot *back = read_ok(path);
	sample_assert_equal(&s.snap, back);
	/* Ranges point into the file's mapping, at page boundaries: no copy. */
	for (uint64_t i = 0; i < back->nranges; i++)
		ck_assert_uint_eq((uintptr_t)back->ranges[i].data & 4095, 0);
	snapfile_free(back);

	/* The same bytes from memory: the same snapshot. */
	size_t len;
	uint8_t *bytes = scratch_slurp(path, &len);
	char err[256] = "";
	ck_assert_msg(snapfile_read_mem(bytes, len, "mem", &back, err, sizeof(err)) == 0, "%s", err);
	sample_assert_equal(&s.snap, back);
	snapfile_free(back);
	free(bytes);
	sample_free(&s);
}
END_TEST

START_TEST(test_round_trip_empty)
{
	/* No tables, no memory, no state: still every note, and a valid file. */
	struct gpusim_snapshot snap;
	memset(&snap, 0, sizeof(snap));
	snap.version = GPUSIM_SNAPSHOT_VERSION;
	gpusim_config_default(&snap.cfg);
	const char *path = scratch_path("empty.elf");
	write_ok(path, &snap);
	struct gpusim_snapshot *back = read_ok(path);
	sample_assert_equal(&snap, back);
	ck_assert_ptr_null(back->ranges);
	ck_assert_ptr_null(back->regs);
	ck_assert_ptr_null(back->state);
	ck_assert_ptr_null(back->client);
	snapfile_free(back);
	snapfile_free(NULL);
}
END_TEST

/* The note segment of a file as the tests' own reading of the ELF header finds it. */
static const uint8_t *note_segment(const uint8_t *file, size_t len, size_t *nlen, uint64_t *nloads)
{
	ck_assert_uint_ge(len, 64);
	uint64_t phoff = le(file + 32, 8), phnum = le(file + 56, 2);
	const uint8_t *notes = NULL;
	*nloads = 0;
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = file + phoff + 56 * i;
		ck_assert_uint_le(phoff + 56 * (i + 1), len);
		if (le(ph, 4) == PT_NOTE) {
			ck_assert_ptr_null(notes);
			notes = file + le(ph + 8, 8);
			*nlen = le(ph + 32, 8);
		} else {
			ck_assert_uint_eq(le(ph, 4), PT_LOAD);
			++*nloads;
		}
	}
	ck_assert_ptr_nonnull(notes);
	return notes;
}

START_TEST(test_layout_as_documented)
{
	struct sample s;
	sample_build(&s);
	const char *path = scratch_path("layout.elf");
	write_ok(path, &s.snap);
	size_t len;
	uint8_t *file = scratch_slurp(path, &len);

	/* ELF header: ELF64, LSB, ET_CORE, EM_NONE, program headers right after it. */
	ck_assert_uint_eq(file[EI_CLASS], ELFCLASS64);
	ck_assert_uint_eq(file[EI_DATA], ELFDATA2LSB);
	ck_assert_uint_eq(le(file + 16, 2), ET_CORE);
	ck_assert_uint_eq(le(file + 18, 2), EM_NONE);
	ck_assert_uint_eq(le(file + 32, 8), 64);

	/* The notes, byte for byte as the forge encodes SNAPSHOT.md. */
	struct forge f;
	forge_from_snapshot(&f, &s.snap, sample_config_text);
	size_t want_len, got_len;
	uint8_t *want = forge_notes(&f, &want_len);
	uint64_t nloads;
	const uint8_t *got = note_segment(file, len, &got_len, &nloads);
	ck_assert_uint_eq(got_len, want_len);
	ck_assert_mem_eq(got, want, want_len);
	ck_assert_uint_eq(nloads, SAMPLE_NRANGES);

	/* Each PT_LOAD: bus address, size, RW, page aligned; the file ends with the last. */
	uint64_t phoff = le(file + 32, 8);
	for (int i = 0; i < SAMPLE_NRANGES; i++) {
		const uint8_t *ph = file + phoff + 56 * (i + 1);
		const struct gpusim_snapshot_range *r = &s.ranges[i];
		ck_assert_uint_eq(le(ph + 4, 4), PF_R | PF_W);
		ck_assert_uint_eq(le(ph + 8, 8) % 4096, 0);
		ck_assert_uint_eq(le(ph + 16, 8), r->addr);
		ck_assert_uint_eq(le(ph + 24, 8), r->addr);
		ck_assert_uint_eq(le(ph + 32, 8), r->size);
		ck_assert_uint_eq(le(ph + 40, 8), r->size);
		ck_assert_uint_eq(le(ph + 48, 8), 4096);
		ck_assert_mem_eq(file + le(ph + 8, 8), r->data, r->size);
		if (i == SAMPLE_NRANGES - 1)
			ck_assert_uint_eq(le(ph + 8, 8) + r->size, len);
	}

	/* And a file laid out by the forge alone (no section headers) reads back equal. */
	size_t flen;
	uint8_t *forged = forge_build(&f, &flen);
	struct gpusim_snapshot *back = read_ok(scratch_file("forged.elf", forged, flen));
	sample_assert_equal(&s.snap, back);
	snapfile_free(back);
	free(forged);
	free(want);
	forge_free(&f);
	free(file);
	sample_free(&s);
}
END_TEST

START_TEST(test_config_text)
{
	/* The CONFIG note carries the canonical text; defaults write out all keys too. */
	struct sample s;
	sample_build(&s);
	const char *path = scratch_path("config.elf");
	write_ok(path, &s.snap);
	size_t len, nlen;
	uint64_t nloads;
	uint8_t *file = scratch_slurp(path, &len);
	const uint8_t *notes = note_segment(file, len, &nlen, &nloads);
	/* The second note: 12-byte header, "GPUSIM\0" padded to 8, then the text. */
	const uint8_t *config = notes + 12 + 8 + 56 + 12 + 8;
	ck_assert_uint_eq(le(notes + 12 + 8 + 56 + 8, 4), FORGE_NT_CONFIG);
	ck_assert_str_eq((const char *)config, sample_config_text);
	free(file);

	struct gpusim_snapshot snap;
	memset(&snap, 0, sizeof(snap));
	snap.version = GPUSIM_SNAPSHOT_VERSION;
	gpusim_config_default(&snap.cfg);
	path = scratch_path("defaults.elf");
	write_ok(path, &snap);
	file = scratch_slurp(path, &len);
	notes = note_segment(file, len, &nlen, &nloads);
	ck_assert_str_eq((const char *)notes + 12 + 8 + 56 + 12 + 8,
			 "vram=256M,visible=64M,gart=512M,sysmem=2G,gart_base=1T,vram_bw=512000000000,"
			 "pcie_bw=32000000000,packet_ns=100,tlb=64,policy=arc,seed=0");
	free(file);
	sample_free(&s);
}
END_TEST

/* ---- readelf ----------------------------------------------------------------- */

struct readelf_load {
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
	char flags[8];
};

START_TEST(test_readelf)
{
	struct sample s;
	sample_build(&s);
	const char *path = scratch_path("readelf.elf");
	write_ok(path, &s.snap);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "LC_ALL=C readelf -W -l -n '%s' 2>&1", path);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);

	struct readelf_load loads[SAMPLE_NRANGES + 1];
	int nloads = 0, nnotes = 0, nnote_segments = 0;
	bool core = false;
	uint64_t note_sizes[9];
	char line[512];
	while (fgets(line, sizeof(line), p)) {
		char type[32], owner[32];
		struct readelf_load l;
		uint64_t size;
		if (strstr(line, "Elf file type is CORE"))
			core = true;
		if (sscanf(line, " %31s 0x%" SCNx64 " 0x%" SCNx64 " 0x%" SCNx64 " 0x%" SCNx64 " 0x%" SCNx64 " %7s 0x%" SCNx64,
			   type, &l.offset, &l.vaddr, &l.paddr, &l.filesz, &l.memsz, l.flags, &l.align) == 8 &&
		    !strcmp(type, "LOAD")) {
			ck_assert_int_lt(nloads, SAMPLE_NRANGES + 1);
			loads[nloads++] = l;
		} else if (sscanf(line, " %31s 0x%" SCNx64, type, &size) == 2 && !strcmp(type, "NOTE")) {
			nnote_segments++;
		} else if (strstr(line, "Unknown note type: (0x4750000") &&
			   sscanf(line, " %31s 0x%" SCNx64, owner, &size) == 2) {
			ck_assert_str_eq(owner, "GPUSIM");
			ck_assert_int_lt(nnotes, 9);
			note_sizes[nnotes++] = size;
		}
	}
	int status = pclose(p);
	ck_assert_msg(status == 0, "readelf failed (%d): is binutils installed?", status);
	ck_assert(core);
	ck_assert_int_eq(nnote_segments, 1);
	ck_assert_int_eq(nloads, SAMPLE_NRANGES);
	for (int i = 0; i < nloads; i++) {
		ck_assert_uint_eq(loads[i].paddr, s.ranges[i].addr);
		ck_assert_uint_eq(loads[i].vaddr, s.ranges[i].addr);
		ck_assert_uint_eq(loads[i].filesz, s.ranges[i].size);
		ck_assert_uint_eq(loads[i].memsz, s.ranges[i].size);
		ck_assert_str_eq(loads[i].flags, "RW");
		ck_assert_uint_eq(loads[i].align, 4096);
		ck_assert_uint_eq(loads[i].offset % 4096, 0);
	}
	const uint64_t want[9] = {
		56, strlen(sample_config_text) + 1, 368, 8 * SAMPLE_NREGS, 16 * SAMPLE_NGART,
		88 * SAMPLE_NALLOCS, 64 * SAMPLE_NEVENTS, SAMPLE_STATE, SAMPLE_CLIENT,
	};
	ck_assert_int_eq(nnotes, 9);
	for (int i = 0; i < 9; i++)
		ck_assert_uint_eq(note_sizes[i], want[i]);
	sample_free(&s);
}
END_TEST

/* ---- size on disk ------------------------------------------------------------ */

START_TEST(test_file_size)
{
	struct gpusim_snapshot snap;
	memset(&snap, 0, sizeof(snap));
	snap.version = GPUSIM_SNAPSHOT_VERSION;
	gpusim_config_default(&snap.cfg);
	uint8_t *mem = malloc(1 << 20);
	ck_assert_ptr_nonnull(mem);
	for (size_t i = 0; i < 1 << 20; i++)
		mem[i] = (uint8_t)(i * 131 + 1);
	struct gpusim_snapshot_range r = { .addr = 16 << 20, .size = 1 << 20, .data = mem };
	snap.ranges = &r;
	snap.nranges = 1;
	const char *path = scratch_path("one-mib.elf");
	write_ok(path, &snap);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_lt(st.st_size, (1 << 20) + (64 << 10));
	ck_assert_int_ge(st.st_size, 1 << 20);
	ck_assert_int_lt((int64_t)st.st_blocks * 512, (1 << 20) + (64 << 10));
	struct gpusim_snapshot *back = read_ok(path);
	ck_assert_uint_eq(back->nranges, 1);
	ck_assert_mem_eq(back->ranges[0].data, mem, 1 << 20);
	snapfile_free(back);
	free(mem);
}
END_TEST

/* ---- more than 65535 program headers (PN_XNUM) ---------------------------------- */

START_TEST(test_many_ranges)
{
	/* 65600 single pages, every other page of 1 GiB of VRAM: 257 MiB of file. */
	enum { N = 65600 };
	static uint8_t page[4096];
	struct gpusim_snapshot snap;
	memset(&snap, 0, sizeof(snap));
	snap.version = GPUSIM_SNAPSHOT_VERSION;
	gpusim_config_default(&snap.cfg);
	snap.cfg.hw.vram = 1ull << 30;
	struct gpusim_snapshot_range *r = calloc(N, sizeof(*r));
	ck_assert_ptr_nonnull(r);
	for (int i = 0; i < 4096; i++)
		page[i] = (uint8_t)(i | 1);
	for (uint64_t i = 0; i < N; i++)
		r[i] = (struct gpusim_snapshot_range){ .addr = i * 8192, .size = 4096, .data = page };
	snap.ranges = r;
	snap.nranges = N;
	const char *path = scratch_path("many.elf");
	write_ok(path, &snap);
	/* The count no longer fits e_phnum: it is PN_XNUM, the real one in section 0. */
	uint8_t ehdr[64];
	FILE *fp = fopen(path, "rb");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fread(ehdr, 1, sizeof(ehdr), fp), sizeof(ehdr));
	fclose(fp);
	ck_assert_uint_eq(le(ehdr + 56, 2), PN_XNUM);
	struct gpusim_snapshot *back = read_ok(path);
	ck_assert_uint_eq(back->nranges, N);
	for (uint64_t i = 0; i < N; i++) {
		ck_assert_uint_eq(back->ranges[i].addr, i * 8192);
		ck_assert_uint_eq(back->ranges[i].size, 4096);
	}
	const uint64_t probe[] = { 0, 1, 65533, 65534, 65535, N - 1 };
	for (size_t k = 0; k < sizeof(probe) / sizeof(probe[0]); k++)
		ck_assert_mem_eq(back->ranges[probe[k]].data, page, 4096);
	snapfile_free(back);
	free(r);
}
END_TEST

/* ---- the writer refuses ------------------------------------------------------- */

static void expect_write_refused(const struct gpusim_snapshot *snap, const char *needle)
{
	const char *path = scratch_path("refused.elf");
	/* An existing file stays as it was. */
	scratch_file("refused.elf", "keep", 4);
	char err[256] = "";
	ck_assert_int_eq(snapfile_write(path, snap, err, sizeof(err)), -1);
	ck_assert_msg(!strncmp(err, path, strlen(path)) && !strncmp(err + strlen(path), ": ", 2),
		      "message does not name the file: %s", err);
	ck_assert_msg(strstr(err, needle), "message \"%s\" does not say \"%s\"", err, needle);
	size_t len;
	uint8_t *bytes = scratch_slurp(path, &len);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(bytes, "keep", 4);
	free(bytes);
}

START_TEST(test_write_refuses)
{
	struct sample s;
	sample_build(&s);
	struct gpusim_snapshot snap = s.snap;
	struct gpusim_snapshot_range ranges[SAMPLE_NRANGES];
	memcpy(ranges, s.ranges, sizeof(ranges));
	snap.ranges = ranges;

	ranges[1].addr = ranges[0].addr + 4096; /* inside range 0 */
	expect_write_refused(&snap, "overlaps range 0");
	ranges[1] = s.ranges[1];
	ranges[2].addr = 0x3000;
	expect_write_refused(&snap, "comes before range 1");
	ranges[2] = s.ranges[2];
	ranges[4].addr += 4096;
	expect_write_refused(&snap, "beyond system memory");
	ranges[4] = s.ranges[4];
	snap.ranges = s.ranges;

	strcpy(snap.cfg.policy, "fifo");
	expect_write_refused(&snap, "unknown policy 'fifo'");
	snap.cfg = s.snap.cfg;
	snap.cfg.hw.visible = snap.cfg.hw.vram * 2;
	expect_write_refused(&snap, "visible must not exceed vram");
	snap.cfg = s.snap.cfg;

	struct gpusim_snapshot_alloc allocs[SAMPLE_NALLOCS];
	memcpy(allocs, s.allocs, sizeof(allocs));
	snap.allocs = allocs;
	memset(allocs[2].name, 'x', sizeof(allocs[2].name));
	expect_write_refused(&snap, "name is not NUL-terminated");
	memcpy(allocs, s.allocs, sizeof(allocs));
	allocs[1].segment = 0;
	expect_write_refused(&snap, "unknown segment id 0");
	snap.allocs = s.allocs;

	snap.version = 2;
	expect_write_refused(&snap, "unknown snapshot version 2");
	snap.version = GPUSIM_SNAPSHOT_VERSION;
	char err[256] = "";
	snap.state = NULL;
	expect_write_refused(&snap, "no state bytes");
	snap.state = s.state;
	snap.client = NULL;
	expect_write_refused(&snap, "no client bytes");
	snap.client = s.client;

	/* No path, no snapshot: refused, nothing created. */
	ck_assert_int_eq(snapfile_write(NULL, &snap, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "(null): no path");
	ck_assert_int_eq(snapfile_write(scratch_path("none.elf"), NULL, err, sizeof(err)), -1);
	ck_assert(strstr(err, "none.elf: no snapshot"));
	ck_assert_int_ne(access(scratch_path("none.elf"), F_OK), 0);

	/* A file that cannot be created: the message says so, with the path. */
	ck_assert_int_eq(snapfile_write("/nonexistent-dir/x.elf", &snap, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/nonexistent-dir/x.elf: cannot create: No such file or directory");
	sample_free(&s);
}
END_TEST

/* ---- the fuzzer's seeds -------------------------------------------------------- */

START_TEST(test_fuzz_seeds)
{
	/* The committed seeds read, stay small, and are what `make snapshot-seeds` writes. */
	const char *src = getenv("srcdir");
	char err[512] = "";
	ck_assert_msg(seeds_write(scratch_path(""), err, sizeof(err)) == 0, "%s", err);
	for (int i = 0; seeds_names[i]; i++) {
		char committed[1024];
		snprintf(committed, sizeof(committed), "%s/tests/fuzz/snapshot-corpus/%s", src ? src : ".",
			 seeds_names[i]);
		size_t len, fresh_len;
		uint8_t *bytes = scratch_slurp(committed, &len);
		uint8_t *fresh = scratch_slurp(scratch_path(seeds_names[i]), &fresh_len);
		ck_assert_uint_lt(len, 64 << 10);
		ck_assert_msg(len == fresh_len && !memcmp(bytes, fresh, len),
			      "%s is out of date: run `make snapshot-seeds`", committed);
		snapfile_free(read_ok(committed));
		free(bytes);
		free(fresh);
	}
}
END_TEST

Suite *elf_roundtrip_suite(void)
{
	Suite *s = suite_create("snapfile: round trip");
	TCase *tc = tcase_create("files");
	tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_round_trip_empty);
	tcase_add_test(tc, test_layout_as_documented);
	tcase_add_test(tc, test_config_text);
	tcase_add_test(tc, test_readelf);
	tcase_add_test(tc, test_file_size);
	tcase_add_test(tc, test_many_ranges);
	tcase_add_test(tc, test_write_refuses);
	tcase_add_test(tc, test_fuzz_seeds);
	suite_add_tcase(s, tc);
	return s;
}
