/*
 * Snapshot files that are wrong: one test per refusal of SNAPSHOT.md's list, each
 * built by breaking one thing in a file the forge lays out from the sample, and
 * each checking that the read fails, leaves *out alone and names the file and the
 * problem. Then every truncation of a real file, and random damage to its headers.
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

static struct sample S;
static struct forge F;

static void setup(void)
{
	scratch_setup();
	sample_build(&S);
	forge_from_snapshot(&F, &S.snap, sample_config_text);
}

static void teardown(void)
{
	forge_free(&F);
	sample_free(&S);
	scratch_teardown();
}

/* The file must be refused, from disk and from memory alike, with the same words. */
static void refused_bytes(const uint8_t *buf, size_t len, const char *needle)
{
	char path[600];
	snprintf(path, sizeof(path), "%s", scratch_file("bad.elf", buf, len));
	struct gpusim_snapshot sentinel, *out = &sentinel;
	char err[512] = "";
	ck_assert_int_eq(snapfile_read(path, &out, err, sizeof(err)), -1);
	ck_assert_ptr_eq(out, &sentinel);
	size_t n = strlen(path);
	ck_assert_msg(!strncmp(err, path, n) && !strncmp(err + n, ": ", 2), "message does not name the file: %s",
		      err);
	ck_assert_msg(strstr(err + n, needle), "message \"%s\" does not say \"%s\"", err, needle);

	char err2[512] = "";
	ck_assert_int_eq(snapfile_read_mem(buf, len, "mem.elf", &out, err2, sizeof(err2)), -1);
	ck_assert_ptr_eq(out, &sentinel);
	ck_assert_msg(!strncmp(err2, "mem.elf: ", 9) && !strcmp(err2 + 9, err + n + 2),
		      "from memory: \"%s\", from the file: \"%s\"", err2, err);
}

static void refused(const struct forge *f, const char *needle)
{
	size_t len;
	uint8_t *buf = forge_build(f, &len);
	refused_bytes(buf, len, needle);
	free(buf);
}

static uint8_t *baseline(size_t *len)
{
	return forge_build(&F, len);
}

static uint8_t *phdr(uint8_t *file, int i)
{
	return file + 64 + 56 * i;
}

static uint64_t le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

START_TEST(test_baseline_reads)
{
	/* What every test below breaks is a good file to begin with. */
	size_t len;
	uint8_t *buf = baseline(&len);
	struct gpusim_snapshot *snap;
	char err[256] = "";
	ck_assert_msg(snapfile_read(scratch_file("good.elf", buf, len), &snap, err, sizeof(err)) == 0, "%s", err);
	sample_assert_equal(&S.snap, snap);
	snapfile_free(snap);
	free(buf);
}
END_TEST

START_TEST(test_not_elf)
{
	const char text[] = "# a scenario, not a snapshot\nadapter vram=1G\n";
	refused_bytes((const uint8_t *)text, sizeof(text) - 1, "not an ELF file");
	refused_bytes((const uint8_t *)"", 0, "not an ELF file");
	refused_bytes((const uint8_t *)"\177EL", 3, "not an ELF file");
}
END_TEST

START_TEST(test_truncated_header)
{
	size_t len;
	uint8_t *buf = baseline(&len);
	refused_bytes(buf, 40, "truncated: 40 bytes, shorter than the ELF header (64 bytes)");
	refused_bytes(buf, 8, "truncated: 8 bytes, shorter than the ELF header");
	free(buf);
}
END_TEST

START_TEST(test_truncated_program_headers)
{
	size_t len;
	uint8_t *buf = baseline(&len);
	refused_bytes(buf, 64 + 56 * 2 + 10, "truncated: 186 bytes, shorter than its program headers (6 at offset 0x40)");
	free(buf);
}
END_TEST

START_TEST(test_truncated_note_segment)
{
	size_t len;
	uint8_t *buf = baseline(&len);
	uint64_t note_off = le(phdr(buf, 0) + 8, 8);
	refused_bytes(buf, note_off + 100, "shorter than its note segment (program header 0");
	free(buf);
}
END_TEST

START_TEST(test_truncated_note)
{
	/* A note whose description runs past the segment's end (CLIENT is the last)... */
	struct forge_note *n = forge_find(&F, FORGE_NT_CLIENT);
	n->descsz_set = true;
	n->descsz = SAMPLE_CLIENT + 4096;
	refused(&F, "runs past its end (name 7 bytes, description 4173 bytes");
	n->descsz_set = false;

	/* ...and a segment that ends inside a note header. */
	size_t len;
	uint8_t *buf = baseline(&len);
	uint64_t nsize = le(phdr(buf, 0) + 32, 8);
	uint64_t last_note = 12 + 8 + ((SAMPLE_CLIENT + 3) & ~3u);
	forge_le64(phdr(buf, 0) + 32, nsize - last_note + 6);
	refused_bytes(buf, len, "truncated note at offset");
	free(buf);
}
END_TEST

START_TEST(test_truncated_segment)
{
	size_t len;
	uint8_t *buf = baseline(&len);
	refused_bytes(buf, len - 1, "shorter than its LOAD segment (program header 5: 0x1000 bytes");
	free(buf);
}
END_TEST

START_TEST(test_wrong_class)
{
	size_t len;
	uint8_t *buf = baseline(&len);
	buf[EI_CLASS] = ELFCLASS32;
	refused_bytes(buf, len, "wrong class ELF32 (expected ELF64)");
	buf[EI_CLASS] = 7;
	refused_bytes(buf, len, "wrong class 7 (expected ELF64)");
	free(buf);
}
END_TEST

START_TEST(test_wrong_byte_order)
{
	size_t len;
	uint8_t *buf = baseline(&len);
	buf[EI_DATA] = ELFDATA2MSB;
	refused_bytes(buf, len, "wrong byte order: big endian (expected little endian)");
	buf[EI_DATA] = ELFDATA2LSB;
	buf[EI_VERSION] = 2;
	refused_bytes(buf, len, "unknown ELF version 2");
	free(buf);
}
END_TEST

START_TEST(test_not_core)
{
	F.e_type = ET_EXEC;
	refused(&F, "not a core file (type 2, expected ET_CORE 4)");
}
END_TEST

START_TEST(test_wrong_machine)
{
	F.e_machine = EM_X86_64;
	refused(&F, "wrong machine 62 (expected 0)");
}
END_TEST

START_TEST(test_program_header_table)
{
	size_t len;
	uint8_t *buf = baseline(&len);
	buf[56] = buf[57] = 0; /* e_phnum */
	refused_bytes(buf, len, "no program headers");
	free(buf);
	buf = baseline(&len);
	buf[54] = 32; /* e_phentsize */
	refused_bytes(buf, len, "program header entry size 32 (expected 56)");
	free(buf);
}
END_TEST

START_TEST(test_segment_types)
{
	F.segs[0].type = PT_NULL;
	refused(&F, "program header 0 has type 0x0 (expected PT_LOAD or PT_NOTE)");
	F.segs[0].type = PT_NOTE;

	F.segs[F.nsegs++] = F.segs[0];
	refused(&F, "more than one PT_NOTE segment (program headers 0 and 6)");
	F.nsegs--;

	/* The notes are still in the file; nothing points at them. */
	memmove(&F.segs[0], &F.segs[1], (size_t)(F.nsegs - 1) * sizeof(F.segs[0]));
	F.nsegs--;
	refused(&F, "no PT_NOTE segment");
}
END_TEST

START_TEST(test_missing_notes)
{
	static const char *const names[8] = {
		"HEADER", "CONFIG", "STATS", "REGISTERS", "GART", "ALLOCATIONS", "EVENTS", "STATE",
	};
	for (uint32_t i = 0; i < 8; i++) {
		struct forge f;
		forge_from_snapshot(&f, &S.snap, sample_config_text);
		forge_drop(&f, FORGE_NT_HEADER + i);
		char want[64];
		snprintf(want, sizeof(want), ": missing %s note", names[i]);
		refused(&f, want);
		forge_free(&f);
	}
}
END_TEST

START_TEST(test_no_state_note)
{
	forge_drop(&F, FORGE_NT_STATE);
	refused(&F, "missing STATE note");
}
END_TEST

START_TEST(test_client_note_optional)
{
	/* A file without CLIENT (written before it existed) reads, with no client bytes. */
	forge_drop(&F, FORGE_NT_CLIENT);
	size_t len;
	uint8_t *buf = baseline(&len);
	struct gpusim_snapshot *snap;
	char err[256] = "";
	ck_assert_msg(snapfile_read_mem(buf, len, "mem", &snap, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_null(snap->client);
	ck_assert_uint_eq(snap->client_size, 0);
	snapfile_free(snap);
	free(buf);
	/* Twice is once too many. */
	forge_add(&F, "GPUSIM", FORGE_NT_CLIENT, "ab", 2);
	forge_add(&F, "GPUSIM", FORGE_NT_CLIENT, "cd", 2);
	refused(&F, "duplicate CLIENT note");
}
END_TEST

START_TEST(test_duplicate_note)
{
	struct forge_note *n = forge_find(&F, FORGE_NT_REGISTERS);
	forge_add(&F, "GPUSIM", FORGE_NT_REGISTERS, n->desc, n->size);
	refused(&F, "duplicate REGISTERS note");
}
END_TEST

START_TEST(test_other_notes)
{
	/* Another owner's note is not ours to judge; an unknown GPUSIM type is refused. */
	forge_add(&F, "CORE", 1, "\1\2\3", 3);
	size_t len;
	uint8_t *buf = baseline(&len);
	struct gpusim_snapshot *snap;
	char err[256] = "";
	ck_assert_msg(snapfile_read_mem(buf, len, "mem", &snap, err, sizeof(err)) == 0, "%s", err);
	sample_assert_equal(&S.snap, snap);
	snapfile_free(snap);
	free(buf);

	forge_add(&F, "GPUSIM", FORGE_NT_CLIENT + 1, "", 0);
	refused(&F, "unknown GPUSIM note type 0x4750000a");
}
END_TEST

START_TEST(test_unknown_version)
{
	forge_le32(forge_find(&F, FORGE_NT_HEADER)->desc, 2);
	refused(&F, "unknown snapshot version 2 (this reader knows 1)");
	/* Even when the header has another size: the version decides what follows. */
	forge_resize(&F, FORGE_NT_HEADER, 80);
	refused(&F, "unknown snapshot version 2 (this reader knows 1)");
}
END_TEST

START_TEST(test_note_sizes)
{
	static const struct {
		uint32_t type;
		size_t size;
		const char *msg;
	} cases[] = {
		{ FORGE_NT_HEADER, 60, "HEADER note has 60 bytes (expected 56)" },
		{ FORGE_NT_HEADER, 2, "HEADER note has 2 bytes (expected 56)" },
		{ FORGE_NT_STATS, 268, "STATS note has 268 bytes (expected 368 or 272)" },
		{ FORGE_NT_REGISTERS, 8 * SAMPLE_NREGS + 4,
		  "REGISTERS note has 100 bytes, not a multiple of its 8-byte record" },
		{ FORGE_NT_GART, 16 * SAMPLE_NGART - 8, "GART note has 88 bytes, not a multiple of its 16-byte record" },
		{ FORGE_NT_ALLOCATIONS, 88 * SAMPLE_NALLOCS + 8,
		  "ALLOCATIONS note has 360 bytes, not a multiple of its 88-byte record" },
		{ FORGE_NT_EVENTS, 64 * SAMPLE_NEVENTS - 32,
		  "EVENTS note has 288 bytes, not a multiple of its 64-byte record" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct forge f;
		forge_from_snapshot(&f, &S.snap, sample_config_text);
		forge_resize(&f, cases[i].type, cases[i].size);
		refused(&f, cases[i].msg);
		forge_free(&f);
	}
}
END_TEST

START_TEST(test_header_reserved)
{
	forge_le32(forge_find(&F, FORGE_NT_HEADER)->desc + 4, 7);
	refused(&F, "HEADER note: reserved field is 7 (expected 0)");
}
END_TEST

static void set_config(struct forge *f, const char *text, size_t size)
{
	forge_drop(f, FORGE_NT_CONFIG);
	forge_add(f, "GPUSIM", FORGE_NT_CONFIG, text, size);
}

START_TEST(test_bad_config)
{
	static const char banana[] = "vram=banana";
	set_config(&F, banana, sizeof(banana));
	refused(&F, "bad configuration in the CONFIG note: bad configuration item 'vram=banana'");

	static const char big_visible[] = "vram=64M,visible=128M,gart=32M,sysmem=128M";
	set_config(&F, big_visible, sizeof(big_visible));
	refused(&F, "bad configuration in the CONFIG note: visible must not exceed vram");

	set_config(&F, sample_config_text, strlen(sample_config_text)); /* no NUL */
	refused(&F, "CONFIG note is not one NUL-terminated string");

	static const char inner_nul[] = "vram=64M\0visible=16M";
	set_config(&F, inner_nul, sizeof(inner_nul));
	refused(&F, "CONFIG note is not one NUL-terminated string");
}
END_TEST

static struct forge_seg *range_seg(int i)
{
	return &F.segs[1 + i];
}

static void move_range(int i, uint64_t addr)
{
	range_seg(i)->paddr = range_seg(i)->vaddr = addr;
}

START_TEST(test_range_alignment)
{
	move_range(1, 0x100800);
	refused(&F, "range 1 at 0x100800 of 0x1000 bytes is not page aligned (4 KiB)");
	move_range(1, S.ranges[1].addr);

	range_seg(1)->filesz = range_seg(1)->memsz = 4000;
	refused(&F, "range 1 at 0x100000 of 0xfa0 bytes is not page aligned");
	range_seg(1)->filesz = range_seg(1)->memsz = 0;
	refused(&F, "range 1 at 0x100000 has size 0");
	range_seg(1)->filesz = range_seg(1)->memsz = 4096;

	range_seg(1)->memsz = 8192;
	refused(&F, "range 1 (program header 2): file size 0x1000 differs from memory size 0x2000");
	range_seg(1)->memsz = 4096;

	range_seg(1)->vaddr = 0;
	refused(&F, "range 1 (program header 2): virtual address 0x0 differs from physical address 0x100000");
	range_seg(1)->vaddr = S.ranges[1].addr;

	range_seg(1)->offset_delta = 8;
	refused(&F, "range 1 (program header 2): data at file offset");
	refused(&F, "is not page aligned");
}
END_TEST

/* A range's data is its own: not the ELF header (issue 15: a first LOAD with
 * p_offset 0 put the file's header into the render ring, whose pending packets
 * then hung `adapter from=`), not another range's. */
START_TEST(test_range_data_overlaps)
{
	size_t len;
	uint8_t *buf = baseline(&len);
	uint64_t off0 = le(phdr(buf, 1) + 8, 8);
	ck_assert_uint_eq(off0 % 4096, 0);
	forge_le64(phdr(buf, 1) + 8, 0);
	refused_bytes(buf, len, "range 0 (program header 1): its data at file offset 0x0 (0x3000 bytes) overlaps the "
				"ELF header");
	forge_le64(phdr(buf, 1) + 8, off0);
	forge_le64(phdr(buf, 2) + 8, off0);
	char want[160];
	snprintf(want, sizeof want,
		 "range 1 (program header 2): its data at file offset 0x%" PRIx64 " (0x1000 bytes) overlaps range 0's "
		 "(program header 1) at 0x%" PRIx64, off0, off0);
	refused_bytes(buf, len, want);
	free(buf);
}
END_TEST

START_TEST(test_range_bounds)
{
	const uint64_t sys = GPUSIM_SYSMEM_BUS_BASE, vram = 64ull << 20, sysmem = 128ull << 20;
	move_range(0, vram - 8192); /* 3 pages: one beyond */
	refused(&F, "range 0 [0x3ffe000, +0x3000) goes beyond VRAM (0x4000000 bytes)");
	move_range(0, 0);

	move_range(2, vram);
	refused(&F, "range 2 at 0x4000000 is in neither VRAM [0, 0x4000000) nor system memory "
		    "[0x1000000000000, 0x1000008000000)");
	move_range(2, 1ull << 40);
	refused(&F, "range 2 at 0x10000000000 is in neither VRAM");
	move_range(2, S.ranges[2].addr);

	move_range(4, sys + sysmem);
	refused(&F, "range 4 [0x1000008000000, +0x1000) goes beyond system memory");
	move_range(4, S.ranges[4].addr);
	move_range(3, sys + sysmem - 4096); /* 2 pages: one beyond (and past range 4) */
	refused(&F, "range 3 [0x1000007fff000, +0x2000) goes beyond system memory");
	move_range(3, UINT64_MAX & ~4095ull);
	refused(&F, "range 3 [0xfffffffffffff000, +0x2000) goes beyond system memory");
}
END_TEST

START_TEST(test_range_order)
{
	move_range(1, 0x2000); /* inside range 0, [0, 0x3000) */
	refused(&F, "range 1 [0x2000, +0x1000) overlaps range 0 [0x0, +0x3000)");
	move_range(1, S.ranges[1].addr);

	struct forge_seg t = *range_seg(3);
	*range_seg(3) = *range_seg(4);
	*range_seg(4) = t;
	refused(&F, "range 4 at 0x1000000005000 comes before range 3 at 0x1000007fff000 (ranges ascend)");
}
END_TEST

START_TEST(test_header_counts)
{
	static const struct {
		int offset, width;
		const char *msg;
	} cases[] = {
		{ 16, 4, "the HEADER note counts 13 registers, the REGISTERS note holds 12" },
		{ 20, 4, "the HEADER note counts 6 events, the EVENTS note holds 5" },
		{ 24, 8, "the HEADER note counts 7 GART rows, the GART note holds 6" },
		{ 32, 8, "the HEADER note counts 5 allocations, the ALLOCATIONS note holds 4" },
		{ 40, 8, "the HEADER note counts 6 ranges, the file has 5 PT_LOAD segments" },
		{ 48, 8, "the HEADER note counts 1002 state bytes, the STATE note holds 1001" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct forge f;
		forge_from_snapshot(&f, &S.snap, sample_config_text);
		uint8_t *h = forge_find(&f, FORGE_NT_HEADER)->desc + cases[i].offset;
		if (cases[i].width == 4)
			forge_le32(h, (uint32_t)le(h, 4) + 1);
		else
			forge_le64(h, le(h, 8) + 1);
		refused(&f, cases[i].msg);
		forge_free(&f);
	}
}
END_TEST

START_TEST(test_alloc_rows)
{
	uint8_t *rows = forge_find(&F, FORGE_NT_ALLOCATIONS)->desc;
	forge_le32(rows + 88 * 2 + 16, 9);
	refused(&F, "allocation 2 (handle 0x400000c2): unknown segment id 9");
	forge_le32(rows + 88 * 2 + 16, GPUSIM_SEG_GART);

	memset(rows + 88 * 1 + 56, 'n', 32);
	refused(&F, "allocation 1 (handle 0x40000081): name is not NUL-terminated");
	memset(rows + 88 * 1 + 56, 0, 32);

	forge_le32(rows + 88 * 3, 0x40000040u);
	refused(&F, "allocation 3: handle 0x40000040 does not follow 0x400000c2");
	forge_le32(rows + 88 * 3, S.allocs[3].handle);
	forge_le32(rows + 40, 0x10);
	refused(&F, "allocation 0 (handle 0x40000040): unknown flags 0x10");
	forge_le32(rows + 40, 0);
	forge_le32(rows + 52, 1);
	refused(&F, "allocation 0 (handle 0x40000040): reserved field is 1 (expected 0)");
}
END_TEST

START_TEST(test_gart_rows)
{
	uint8_t *rows = forge_find(&F, FORGE_NT_GART)->desc;
	forge_le64(rows + 16 * 5, 8192);
	refused(&F, "GART row 5: page 8192 is beyond the aperture (8192 pages)");
	forge_le64(rows + 16 * 5, UINT64_MAX);
	refused(&F, "GART row 5: page 18446744073709551615 is beyond the aperture");
	forge_le64(rows + 16 * 5, 101);
	refused(&F, "GART row 5: page 101 does not follow page 101");
	forge_le64(rows + 16 * 5, 8191);
	forge_le64(rows + 16 * 2 + 8, HW_GART_ENTRY(5, HW_GART_READ));
	refused(&F, "GART row 2: entry 0x5002 is not valid");
	forge_le64(rows + 16 * 2 + 8, HW_GART_ENTRY(32768, HW_GART_VALID));
	refused(&F, "GART row 2: entry 0x8000001 names system page 32768, beyond system memory (32768 pages)");
}
END_TEST

START_TEST(test_register_rows)
{
	uint8_t *rows = forge_find(&F, FORGE_NT_REGISTERS)->desc;
	forge_le32(rows + 8 * 3, 0x3e);
	refused(&F, "register 3: offset 0x3e is not 4-byte aligned");
	forge_le32(rows + 8 * 3, 0x14);
	refused(&F, "register 3: offset 0x14 does not follow 0x28");
}
END_TEST

START_TEST(test_not_a_file)
{
	struct gpusim_snapshot sentinel, *out = &sentinel;
	char err[256] = "";
	ck_assert_int_eq(snapfile_read("/nonexistent/x.elf", &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/nonexistent/x.elf: cannot open: No such file or directory");
	ck_assert_int_eq(snapfile_read(NULL, &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "(null): no path");
	ck_assert_int_eq(snapfile_read_mem(NULL, 10, "m", &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "m: no buffer or no result");
	ck_assert_ptr_eq(out, &sentinel);
	const char *dir = scratch_path("a-directory");
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	char d[600];
	snprintf(d, sizeof(d), "%s", dir);
	ck_assert_int_eq(snapfile_read(d, &out, err, sizeof(err)), -1);
	ck_assert_ptr_eq(out, &sentinel);
	ck_assert(strstr(err, ": not a regular file"));
	rmdir(d);
}
END_TEST

/* ---- every truncation, and random damage -------------------------------------- */

START_TEST(test_every_truncation)
{
	/* A file of the real writer, cut anywhere: always "truncated", never a crash. */
	const char *path = scratch_path("whole.elf");
	char err[512];
	ck_assert_msg(snapfile_write(path, &S.snap, err, sizeof(err)) == 0, "%s", err);
	size_t len;
	uint8_t *buf = scratch_slurp(path, &len);
	for (size_t cut = 0; cut < len; cut += cut < 8192 ? 1 : 61) {
		struct gpusim_snapshot sentinel, *out = &sentinel;
		ck_assert_int_eq(snapfile_read_mem(buf, cut, "cut", &out, err, sizeof(err)), -1);
		ck_assert_ptr_eq(out, &sentinel);
		const char *want = cut < 4 ? "cut: not an ELF file" : "cut: truncated: ";
		ck_assert_msg(!strncmp(err, want, strlen(want)), "cut at %zu: %s", cut, err);
	}
	free(buf);
}
END_TEST

static uint64_t rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

START_TEST(test_random_damage)
{
	/* Flip bytes in the headers and notes: a clean answer each time, whatever it is. */
	const char *path = scratch_path("whole.elf");
	char err[512];
	ck_assert_msg(snapfile_write(path, &S.snap, err, sizeof(err)) == 0, "%s", err);
	size_t len;
	uint8_t *good = scratch_slurp(path, &len), *buf = malloc(len);
	ck_assert_ptr_nonnull(buf);
	uint64_t seed = 0x5eed, refusals = 0;
	const size_t head = 4096; /* headers, notes, section headers */
	for (int round = 0; round < 3000; round++) {
		memcpy(buf, good, len);
		int flips = 1 + (int)(rng(&seed) % 4);
		for (int k = 0; k < flips; k++)
			buf[rng(&seed) % head] ^= (uint8_t)(1u << (rng(&seed) % 8));
		struct gpusim_snapshot *out = NULL;
		err[0] = '\0';
		if (snapfile_read_mem(buf, len, "dmg", &out, err, sizeof(err))) {
			ck_assert_ptr_null(out);
			ck_assert_msg(!strncmp(err, "dmg: ", 5) && strlen(err) > 5, "round %d: \"%s\"", round, err);
			refusals++;
		} else {
			snapfile_free(out);
		}
	}
	/* Most flips land where the reader checks (padding and values it keeps are the rest). */
	ck_assert_uint_gt(refusals, 1000);
	free(buf);
	free(good);
}
END_TEST

Suite *elf_badinput_suite(void)
{
	Suite *s = suite_create("snapfile: bad input");
	TCase *tc = tcase_create("refusals");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_baseline_reads);
	tcase_add_test(tc, test_not_elf);
	tcase_add_test(tc, test_truncated_header);
	tcase_add_test(tc, test_truncated_program_headers);
	tcase_add_test(tc, test_truncated_note_segment);
	tcase_add_test(tc, test_truncated_note);
	tcase_add_test(tc, test_truncated_segment);
	tcase_add_test(tc, test_wrong_class);
	tcase_add_test(tc, test_wrong_byte_order);
	tcase_add_test(tc, test_not_core);
	tcase_add_test(tc, test_wrong_machine);
	tcase_add_test(tc, test_program_header_table);
	tcase_add_test(tc, test_segment_types);
	tcase_add_test(tc, test_missing_notes);
	tcase_add_test(tc, test_no_state_note);
	tcase_add_test(tc, test_duplicate_note);
	tcase_add_test(tc, test_client_note_optional);
	tcase_add_test(tc, test_other_notes);
	tcase_add_test(tc, test_unknown_version);
	tcase_add_test(tc, test_note_sizes);
	tcase_add_test(tc, test_header_reserved);
	tcase_add_test(tc, test_bad_config);
	tcase_add_test(tc, test_range_alignment);
	tcase_add_test(tc, test_range_data_overlaps);
	tcase_add_test(tc, test_range_bounds);
	tcase_add_test(tc, test_range_order);
	tcase_add_test(tc, test_header_counts);
	tcase_add_test(tc, test_alloc_rows);
	tcase_add_test(tc, test_gart_rows);
	tcase_add_test(tc, test_register_rows);
	tcase_add_test(tc, test_not_a_file);
	tcase_add_test(tc, test_every_truncation);
	tcase_add_test(tc, test_random_damage);
	suite_add_tcase(s, tc);
	return s;
}
