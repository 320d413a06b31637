/*
 * The ELF image reader and relocation: images written with libelf, read back
 * field by field; every refusal of sim/elf/IMAGES.md with its message; the
 * packet walk that finds the addresses to patch.
 */
#include <config.h>

#include <check.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gpusim/hw.h>
#include "sim/elf/image.h"
#include "tests/elf/build_elf.h"
#include "tests/elf/image_suites.h"

/* The image most tests start from: packets (R X), a table (R), data and bss
 * (R W), on 64 KiB boundaries plus an offset, and a PT_NOTE between them. */
static struct tb_words text;
static uint8_t table[256], init[16];
static struct tb_seg segs[4];

static void good_segments(void)
{
	memset(&text, 0, sizeof(text));
	/* WRITE_DATA 2 dwords to data+0x10 */
	tb_dw(&text, HW_PKT_HEADER(HW_PKT_WRITE_DATA, 0, 4));
	tb_qw(&text, 0x30310);
	tb_dw(&text, 0x11111111);
	tb_dw(&text, 0x22222222);
	/* COPY table -> bss */
	tb_dw(&text, HW_PKT_HEADER(HW_PKT_COPY, 0, 6));
	tb_qw(&text, 0x20200);
	tb_qw(&text, 0x31000);
	tb_qw(&text, 0x100);
	for (unsigned i = 0; i < sizeof table; i++)
		table[i] = (uint8_t)(i * 7 + 1);
	memset(init, 0xd7, sizeof init);
	segs[0] = (struct tb_seg){ 0, PF_R | PF_X, 0x10100, text.n * 4, 0x10000, text.w, text.n * 4 };
	segs[1] = (struct tb_seg){ PT_NOTE, PF_R, 0, 0, 4, NULL, 0 };
	segs[2] = (struct tb_seg){ 0, PF_R, 0x20200, sizeof table, 0x10000, table, sizeof table };
	segs[3] = (struct tb_seg){ 0, PF_R | PF_W, 0x30300, 0x2000, 0x10000, init, sizeof init };
}

static uint8_t *good(int cls, size_t *len)
{
	good_segments();
	struct tb_image im = { cls, 0, 0, segs, 4 };
	uint8_t *buf;
	char *path = tb_write(&im, &buf, len);
	unlink(path);
	free(path);
	return buf;
}

static struct elfimg *read_ok(const uint8_t *buf, size_t len, const struct elfimg_limits *lim)
{
	struct elfimg *img = NULL;
	char err[512] = "";
	int rc = elfimg_read_mem(buf, len, "t.elf", lim, &img, err, sizeof err);
	ck_assert_msg(rc == 0, "read: %s", err);
	ck_assert_ptr_nonnull(img);
	return img;
}

/* The refusal must name the file and say this. */
static void read_bad(const uint8_t *buf, size_t len, const struct elfimg_limits *lim, const char *want)
{
	struct elfimg *img = (struct elfimg *)0x1;
	char err[512] = "";
	int rc = elfimg_read_mem(buf, len, "t.elf", lim, &img, err, sizeof err);
	ck_assert_msg(rc == -1, "read, expected to fail with '%s'", want);
	ck_assert_ptr_eq(img, (struct elfimg *)0x1); /* untouched */
	ck_assert_msg(!strncmp(err, "t.elf: ", 7), "no file name in '%s'", err);
	ck_assert_msg(strstr(err, want), "expected '%s' in '%s'", want, err);
}

static void check_good(const struct elfimg *img, unsigned cls)
{
	ck_assert_uint_eq(img->elfclass, cls);
	ck_assert_uint_eq(img->type, ET_EXEC);
	ck_assert_uint_eq(img->machine, EM_X86_64);
	ck_assert_uint_eq(img->nsegs, 3);
	ck_assert_uint_eq(img->segs[0].phdr, 0);
	ck_assert_uint_eq(img->segs[1].phdr, 2); /* the PT_NOTE is skipped */
	ck_assert_uint_eq(img->segs[2].phdr, 3);
	ck_assert_uint_eq(img->segs[0].flags, ELFIMG_R | ELFIMG_X);
	ck_assert_uint_eq(img->segs[1].flags, ELFIMG_R);
	ck_assert_uint_eq(img->segs[2].flags, ELFIMG_R | ELFIMG_W);
	ck_assert_uint_eq(img->segs[2].vaddr, 0x30300);
	ck_assert_uint_eq(img->segs[2].memsz, 0x2000);
	ck_assert_uint_eq(img->segs[2].filesz, sizeof init);
	ck_assert_uint_eq(img->segs[2].align, 0x10000);
	ck_assert_uint_eq(img->segs[2].offset % 0x10000, 0x300);
	/* The allocation starts at the 64 KiB boundary below vaddr. */
	ck_assert_uint_eq(img->segs[2].lead, 0x300);
	ck_assert_uint_eq(elfimg_seg_size(&img->segs[2]), 0x3000);
	ck_assert_uint_eq(elfimg_seg_align(&img->segs[2]), 0x10000);
	ck_assert_mem_eq(img->segs[0].data, text.w, text.n * 4);
	ck_assert_mem_eq(img->segs[1].data, table, sizeof table);
	ck_assert_mem_eq(img->segs[2].data, init, sizeof init);
	ck_assert_int_eq(elfimg_find(img, 0x20200), 1);
	ck_assert_int_eq(elfimg_find(img, 0x202ff), 1);
	ck_assert_int_eq(elfimg_find(img, 0x20300), -1);
	ck_assert_int_eq(elfimg_find(img, 0x301ff), -1);
	ck_assert_int_eq(elfimg_find(img, 0x322ff), 2);
	ck_assert_int_eq(elfimg_only_exec(img), 0);
}

START_TEST(test_read_elf64)
{
	size_t len;
	uint8_t *buf = good(ELFCLASS64, &len);
	struct elfimg *img = read_ok(buf, len, NULL);
	free(buf); /* the image keeps its own copy */
	check_good(img, 64);
	elfimg_free(img);
}
END_TEST

START_TEST(test_read_elf32)
{
	size_t len;
	uint8_t *buf = good(ELFCLASS32, &len);
	struct elfimg *img = read_ok(buf, len, NULL);
	check_good(img, 32);
	elfimg_free(img);
	free(buf);
}
END_TEST

START_TEST(test_read_file_and_dyn)
{
	good_segments();
	struct tb_image im = { ELFCLASS64, ET_DYN, 0, segs, 4 };
	uint8_t *buf;
	size_t len;
	char *path = tb_write(&im, &buf, &len);
	struct elfimg *img = NULL;
	char err[512] = "";
	ck_assert_msg(elfimg_read(path, NULL, &img, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(img->type, ET_DYN);
	ck_assert_str_eq(img->name, path);
	ck_assert_uint_eq(img->len, len);
	ck_assert_mem_eq(img->buf, buf, len);
	elfimg_free(img);
	/* Pinned to its own machine it loads; to another it is refused. */
	struct elfimg_limits lim = { 0, 0, EM_X86_64 };
	ck_assert_int_eq(elfimg_read(path, &lim, &img, err, sizeof err), 0);
	elfimg_free(img);
	lim.machine = EM_ARM;
	ck_assert_int_eq(elfimg_read(path, &lim, &img, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "wrong machine: e_machine 62, expected 40"), "%s", err);
	ck_assert_msg(!strncmp(err, path, strlen(path)), "%s", err);
	unlink(path);
	free(path);
	free(buf);
}
END_TEST

START_TEST(test_read_file_errors)
{
	struct elfimg *img = NULL;
	char err[512] = "";
	ck_assert_int_eq(elfimg_read("/nonexistent/x.elf", NULL, &img, err, sizeof err), -1);
	ck_assert_str_eq(err, "/nonexistent/x.elf: cannot open: No such file or directory");
	ck_assert_int_eq(elfimg_read("/tmp", NULL, &img, err, sizeof err), -1);
	ck_assert_str_eq(err, "/tmp: is a directory");
	char fifo[] = "/tmp/gpusim-image-fifo.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(fifo));
	char path[64];
	snprintf(path, sizeof path, "%s/f", fifo);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(elfimg_read(path, NULL, &img, err, sizeof err), -1); /* without blocking */
	ck_assert_msg(strstr(err, "not a regular file"), "%s", err);
	unlink(path);
	rmdir(fifo);
	ck_assert_ptr_null(img);
	/* An empty file. */
	char empty[] = "/tmp/gpusim-image-empty.XXXXXX";
	int fd = mkstemp(empty);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(elfimg_read(empty, NULL, &img, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "not an ELF file"), "%s", err);
	unlink(empty);
}
END_TEST

/* ---- refusals: the identification and the ELF header ------------------------ */

START_TEST(test_bad_ident)
{
	size_t len;
	uint8_t *buf = good(ELFCLASS64, &len);
	read_bad(buf, 0, NULL, "not an ELF file");
	read_bad(buf, 3, NULL, "not an ELF file");
	read_bad((const uint8_t *)"#!/bin/sh\necho hi\n", 18, NULL, "not an ELF file (no \\x7fELF magic)");
	read_bad(buf, 10, NULL, "truncated: 10 bytes, shorter than the ELF identification (16)");
	buf[EI_CLASS] = 3;
	read_bad(buf, len, NULL, "wrong class: EI_CLASS 3 (expected ELFCLASS32 or ELFCLASS64)");
	buf[EI_CLASS] = ELFCLASSNONE;
	read_bad(buf, len, NULL, "wrong class: EI_CLASS 0");
	buf[EI_CLASS] = ELFCLASS64;
	buf[EI_DATA] = ELFDATA2MSB;
	read_bad(buf, len, NULL, "wrong byte order: big endian (the device is little endian)");
	buf[EI_DATA] = 7;
	read_bad(buf, len, NULL, "wrong byte order: EI_DATA 7");
	buf[EI_DATA] = ELFDATA2LSB;
	buf[EI_VERSION] = 2;
	read_bad(buf, len, NULL, "unknown ELF version 2");
	buf[EI_VERSION] = EV_CURRENT;
	read_bad(buf, 40, NULL, "truncated: 40 bytes, shorter than the ELF64 header (64)");
	free(buf);
	buf = good(ELFCLASS32, &len);
	read_bad(buf, 51, NULL, "truncated: 51 bytes, shorter than the ELF32 header (52)");
	free(buf);
}
END_TEST

START_TEST(test_bad_type)
{
	size_t len;
	uint8_t *buf = good(ELFCLASS64, &len);
	size_t e_type = offsetof(Elf64_Ehdr, e_type);
	tb_put(buf, e_type, ET_REL, 2);
	read_bad(buf, len, NULL, "wrong type: a relocatable object (ET_REL), not a linked image");
	tb_put(buf, e_type, ET_CORE, 2);
	read_bad(buf, len, NULL, "wrong type: a core file (ET_CORE, a snapshot?), not an image");
	tb_put(buf, e_type, ET_NONE, 2);
	read_bad(buf, len, NULL, "wrong type: ET_NONE (expected ET_EXEC or ET_DYN)");
	tb_put(buf, e_type, 0x1234, 2);
	read_bad(buf, len, NULL, "wrong type: e_type 0x1234 (expected ET_EXEC or ET_DYN)");
	free(buf);
}
END_TEST

START_TEST(test_machine_any)
{
	/* Packets come from any machine's toolchain: unpinned, e_machine is free. */
	size_t len;
	uint8_t *buf = good(ELFCLASS64, &len);
	tb_put(buf, offsetof(Elf64_Ehdr, e_machine), 0xbeef, 2);
	struct elfimg_limits any = { 0, 0, ELFIMG_ANY_MACHINE };
	struct elfimg *img = read_ok(buf, len, &any);
	ck_assert_uint_eq(img->machine, 0xbeef);
	elfimg_free(img);
	struct elfimg_limits pin = { 0, 0, 0xbeef };
	img = read_ok(buf, len, &pin);
	elfimg_free(img);
	pin.machine = 0;
	read_bad(buf, len, &pin, "wrong machine: e_machine 48879, expected 0");
	free(buf);
}
END_TEST

START_TEST(test_bad_phdrs)
{
	size_t len;
	uint8_t *buf = good(ELFCLASS64, &len);
	uint8_t *copy = malloc(len);
	ck_assert_ptr_nonnull(copy);
	/* Cut inside the program header table. */
	read_bad(buf, 64 + 56 * 2 + 10, NULL,
		 "truncated: 4 program headers at offset 0x40 run past the end of the file");
	memcpy(copy, buf, len);
	tb_put(copy, offsetof(Elf64_Ehdr, e_phoff), 0xffffffffffffff00ull, 8);
	read_bad(copy, len, NULL, "truncated: 4 program headers at offset 0xffffffffffffff00");
	memcpy(copy, buf, len);
	tb_put(copy, offsetof(Elf64_Ehdr, e_phentsize), 48, 2);
	read_bad(copy, len, NULL, "program header size 48 (expected 56 for ELF64)");
	memcpy(copy, buf, len);
	tb_put(copy, offsetof(Elf64_Ehdr, e_phnum), 0, 2);
	read_bad(copy, len, NULL, "no loadable segment (no program headers)");
	/* PN_XNUM: the count lives in section 0's sh_info. */
	memcpy(copy, buf, len);
	uint64_t shoff = 0;
	for (int k = 0; k < 8; k++)
		shoff |= (uint64_t)copy[offsetof(Elf64_Ehdr, e_shoff) + k] << (8 * k);
	tb_put(copy, offsetof(Elf64_Ehdr, e_phnum), PN_XNUM, 2);
	tb_put(copy, shoff + offsetof(Elf64_Shdr, sh_info), 4, 4);
	struct elfimg *img = read_ok(copy, len, NULL);
	ck_assert_uint_eq(img->nsegs, 3);
	elfimg_free(img);
	tb_put(copy, shoff + offsetof(Elf64_Shdr, sh_info), 0x7fffffff, 4);
	read_bad(copy, len, NULL, "truncated: 2147483647 program headers at offset 0x40");
	/* ... and in a section 0 that is not there. */
	memcpy(copy, buf, len);
	tb_put(copy, offsetof(Elf64_Ehdr, e_phnum), PN_XNUM, 2);
	tb_put(copy, offsetof(Elf64_Ehdr, e_shoff), len + 4096, 8);
	read_bad(copy, len, NULL, "PN_XNUM");
	/* Only the PT_NOTE left loadable: turn the three PT_LOADs into PT_NULL. */
	memcpy(copy, buf, len);
	tb_set_phdr(copy, 0, "p_type", PT_NULL);
	tb_set_phdr(copy, 2, "p_type", PT_NULL);
	tb_set_phdr(copy, 3, "p_type", PT_NULL);
	read_bad(copy, len, NULL, "no loadable segment (no PT_LOAD program header)");
	free(copy);
	free(buf);
}
END_TEST

/* ---- refusals: a segment ----------------------------------------------------- */

/* Program header 3 is the data segment: segment 2. */
#define SEG2 "segment 2 (program header 3): "

START_TEST(test_bad_segment)
{
	size_t len;
	uint8_t *buf = good(ELFCLASS64, &len);
	uint8_t *c = malloc(len);
	ck_assert_ptr_nonnull(c);
	size_t off2 = 0x300 + 0; /* its offset, read back below */
	struct elfimg *img = read_ok(buf, len, NULL);
	off2 = img->segs[2].offset;
	elfimg_free(img);

	memcpy(c, buf, len);
	tb_set_phdr(c, 3, "p_filesz", 0x3000);
	read_bad(c, len, NULL, SEG2 "p_filesz 0x3000 is larger than p_memsz 0x2000");
	memcpy(c, buf, len);
	tb_set_phdr(c, 3, "p_memsz", 0);
	tb_set_phdr(c, 3, "p_filesz", 0);
	read_bad(c, len, NULL, SEG2 "empty (p_memsz 0): nothing to load");
	/* Its bytes past the end of the file: cut the file, or move the offset. */
	read_bad(buf, off2 + 8, NULL, SEG2 "truncated: its 16 file bytes at offset");
	memcpy(c, buf, len);
	tb_set_phdr(c, 3, "p_offset", 0xffffffffffff0300ull);
	read_bad(c, len, NULL, SEG2 "truncated: its 16 file bytes at offset 0xffffffffffff0300");
	memcpy(c, buf, len);
	tb_set_phdr(c, 3, "p_align", 0x3000);
	read_bad(c, len, NULL, SEG2 "p_align 0x3000 is not 0, 1 or a power of two");
	memcpy(c, buf, len);
	tb_set_phdr(c, 3, "p_vaddr", 0x30400);
	read_bad(c, len, NULL, SEG2 "p_vaddr 0x30400 and p_offset");
	read_bad(c, len, NULL, "differ modulo p_align 0x10000");
	memcpy(c, buf, len);
	tb_set_phdr(c, 3, "p_vaddr", 0xffffffffffff0300ull);
	tb_set_phdr(c, 3, "p_memsz", 0x10000);
	read_bad(c, len, NULL, SEG2 "p_vaddr 0xffffffffffff0300 + p_memsz 0x10000 overflows the 64-bit address space");
	tb_set_phdr(c, 3, "p_memsz", 0xfd00); /* ends at the very top: fine */
	struct elfimg *top = read_ok(c, len, NULL);
	ck_assert_uint_eq(top->segs[2].vaddr + (top->segs[2].memsz - 1), UINT64_MAX);
	elfimg_free(top);
	/* The largest memsz that fits the address space, but not in pages. */
	memcpy(c, buf, len);
	tb_set_phdr(c, 3, "p_vaddr", 0x300);
	tb_set_phdr(c, 3, "p_memsz", 0xfffffffffffff000ull);
	read_bad(c, len, NULL, SEG2 "p_memsz 0xfffffffffffff000 overflows when its allocation is rounded to pages");
	/* Overlaps: data moved onto the table (vaddr still congruent to its offset). */
	memcpy(c, buf, len);
	tb_set_phdr(c, 3, "p_vaddr", 0x20300 - 0x100);
	tb_set_phdr(c, 3, "p_align", 0x100);
	read_bad(c, len, NULL, "segments 1 and 2 overlap at 0x20200");
	free(c);
	free(buf);
}
END_TEST

START_TEST(test_bad_segment_elf32)
{
	size_t len;
	uint8_t *buf = good(ELFCLASS32, &len);
	tb_set_phdr(buf, 3, "p_vaddr", 0xffff0300u);
	tb_set_phdr(buf, 3, "p_memsz", 0x10000);
	read_bad(buf, len, NULL, SEG2 "p_vaddr 0xffff0300 + p_memsz 0x10000 overflows the 32-bit address space");
	free(buf);
}
END_TEST

START_TEST(test_limits)
{
	size_t len;
	uint8_t *buf = good(ELFCLASS64, &len);
	/* The data segment takes 0x3000 bytes (0x300 before vaddr, 0x2000, rounded). */
	struct elfimg_limits lim = { 0x3000, 0, ELFIMG_ANY_MACHINE };
	struct elfimg *img = read_ok(buf, len, &lim);
	elfimg_free(img);
	lim.max_segment = 0x2fff;
	read_bad(buf, len, &lim,
		 SEG2 "needs 0x3000 bytes, more than the device can ever hold in one segment (0x2fff)");
	/* Together: 0x1000 + 0x1000 + 0x3000. */
	lim = (struct elfimg_limits){ 0, 0x5000, ELFIMG_ANY_MACHINE };
	img = read_ok(buf, len, &lim);
	elfimg_free(img);
	lim.max_total = 0x4fff;
	read_bad(buf, len, &lim,
		 "the 3 segments need 0x5000 bytes together, more than the device's VRAM and GART (0x4fff)");
	free(buf);
}
END_TEST

START_TEST(test_too_many_segments)
{
	/* One more than a CreateAllocation call takes: refused, and 1024 are fine. */
	static struct tb_seg many[ELFIMG_MAX_SEGMENTS + 1];
	for (unsigned i = 0; i <= ELFIMG_MAX_SEGMENTS; i++)
		many[i] = (struct tb_seg){ 0, PF_R, 0x100000ull + i * 0x1000ull, 0x10, 0x1000, NULL, 0 };
	struct tb_image im = { ELFCLASS64, 0, 0, many, ELFIMG_MAX_SEGMENTS + 1 };
	uint8_t *buf;
	size_t len;
	char *path = tb_write(&im, &buf, &len);
	unlink(path);
	free(path);
	read_bad(buf, len, NULL, "more than 1024 loadable segments");
	tb_set_phdr(buf, ELFIMG_MAX_SEGMENTS, "p_type", PT_NOTE);
	struct elfimg *img = read_ok(buf, len, NULL);
	ck_assert_uint_eq(img->nsegs, ELFIMG_MAX_SEGMENTS);
	ck_assert_uint_eq(img->segs[5].lead, 0);
	ck_assert_ptr_null(img->segs[5].data);
	elfimg_free(img);
	free(buf);
}
END_TEST

START_TEST(test_small_align_lead)
{
	/* p_align 0 or 1: the allocation starts at the page below vaddr. */
	struct tb_seg s[2] = {
		{ 0, PF_R | PF_X, 0x12345, 8, 0, "\0\0\0\0\0\0\0\0", 8 },
		{ 0, PF_R | PF_W, 0x20ff8, 0x10, 1, NULL, 0 },
	};
	struct tb_image im = { ELFCLASS64, 0, 0, s, 2 };
	uint8_t *buf;
	size_t len;
	char *path = tb_write(&im, &buf, &len);
	unlink(path);
	free(path);
	struct elfimg *img = read_ok(buf, len, NULL);
	ck_assert_uint_eq(img->segs[0].lead, 0x345);
	ck_assert_uint_eq(elfimg_seg_size(&img->segs[0]), 0x1000);
	ck_assert_uint_eq(elfimg_seg_align(&img->segs[0]), 0x1000);
	/* 0xff8 + 0x10 crosses a page: two pages. */
	ck_assert_uint_eq(img->segs[1].lead, 0xff8);
	ck_assert_uint_eq(elfimg_seg_size(&img->segs[1]), 0x2000);
	elfimg_free(img);
	free(buf);
}
END_TEST

/* ---- relocation -------------------------------------------------------------- */

START_TEST(test_relocs)
{
	good_segments();
	struct tb_words p;
	memset(&p, 0, sizeof p);
	/* 0: NOP whose body looks like an address: not a field, not patched */
	tb_dw(&p, HW_PKT_HEADER(HW_PKT_NOP, 0, 2));
	tb_qw(&p, 0x30300);
	/* 3: WRITE_DATA into the data segment (lead 0x300) */
	tb_dw(&p, HW_PKT_HEADER(HW_PKT_WRITE_DATA, 0, 3));
	tb_qw(&p, 0x30310);
	tb_dw(&p, 7);
	/* 7: COPY table+0x10 -> an absolute address outside the image (left alone) */
	tb_dw(&p, HW_PKT_HEADER(HW_PKT_COPY, 0, 6));
	tb_qw(&p, 0x20210);
	tb_qw(&p, 0x10000000000ull);
	tb_qw(&p, 16);
	/* 14: FILL the bss */
	tb_dw(&p, HW_PKT_HEADER(HW_PKT_FILL, 0, 5));
	tb_qw(&p, 0x32000);
	tb_qw(&p, 0x100);
	tb_dw(&p, 0);
	/* 20: CHECKSUM table -> data */
	tb_dw(&p, HW_PKT_HEADER(HW_PKT_CHECKSUM, 0, 6));
	tb_qw(&p, 0x20200);
	tb_qw(&p, 0x100);
	tb_qw(&p, 0x302fc); /* just below the segment: outside it */
	/* 27: FENCE into data, WAIT on the packets' own segment */
	tb_dw(&p, HW_PKT_HEADER(HW_PKT_FENCE, 0, 4));
	tb_qw(&p, 0x322f8);
	tb_qw(&p, 1);
	tb_dw(&p, HW_PKT_HEADER(HW_PKT_WAIT, 0, 4));
	tb_qw(&p, 0x10100);
	tb_qw(&p, 0);
	/* 37: an unknown opcode: skipped by its count */
	tb_dw(&p, HW_PKT_HEADER(0x55, 0, 2));
	tb_qw(&p, 0x30300);
	/* 40: a COPY whose count is too short to hold its dst: only src */
	tb_dw(&p, HW_PKT_HEADER(HW_PKT_COPY, 0, 2));
	tb_qw(&p, 0x20200);
	/* 43: a WRITE_DATA cut by the end of the segment */
	tb_dw(&p, HW_PKT_HEADER(HW_PKT_WRITE_DATA, 0, 3));
	tb_dw(&p, 0x30300);
	segs[0].bytes = p.w;
	segs[0].filesz = segs[0].memsz = p.n * 4;
	struct tb_image im = { ELFCLASS64, 0, 0, segs, 4 };
	uint8_t *buf;
	size_t len;
	char *path = tb_write(&im, &buf, &len);
	unlink(path);
	free(path);
	struct elfimg *img = read_ok(buf, len, NULL);
	free(buf);

	struct elfimg_reloc *r;
	size_t n;
	char err[256];
	ck_assert_int_eq(elfimg_relocs(img, 0, &r, &n, err, sizeof err), 0);
	static const struct elfimg_reloc want[] = {
		{ 4 * 4, 2, 0x310, true },        /* WRITE_DATA */
		{ 8 * 4, 1, 0x210, false },       /* COPY src; dst is outside */
		{ 15 * 4, 2, 0x2000, true },      /* FILL */
		{ 21 * 4, 1, 0x200, false },      /* CHECKSUM src; dst below the segment */
		{ 28 * 4, 2, 0x22f8, true },      /* FENCE */
		{ 33 * 4, 0, 0x100, false },      /* WAIT */
		{ 41 * 4, 1, 0x200, false },      /* short COPY: its src only */
	};
	ck_assert_uint_eq(n, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(r[i].patch_offset, want[i].patch_offset);
		ck_assert_uint_eq(r[i].segment, want[i].segment);
		ck_assert_uint_eq(r[i].alloc_offset, want[i].alloc_offset);
		ck_assert_int_eq(r[i].write, want[i].write);
	}
	free(r);

	/* Only executable segments with whole dwords of packets. */
	ck_assert_int_eq(elfimg_relocs(img, 1, &r, &n, err, sizeof err), -1);
	ck_assert_str_eq(err, "t.elf: segment 1 is not executable (no X in its flags)");
	ck_assert_int_eq(elfimg_relocs(img, 3, &r, &n, err, sizeof err), -1);
	ck_assert_str_eq(err, "t.elf: no segment 3 (the image has 3)");
	img->segs[0].filesz = 10;
	ck_assert_int_eq(elfimg_relocs(img, 0, &r, &n, err, sizeof err), -1);
	ck_assert_str_eq(err, "t.elf: segment 0: 10 bytes of packets are not whole dwords");
	img->segs[0].filesz = 0;
	ck_assert_int_eq(elfimg_relocs(img, 0, &r, &n, err, sizeof err), -1);
	ck_assert_str_eq(err, "t.elf: segment 0 holds no packets in the file (p_filesz 0)");
	elfimg_free(img);
}
END_TEST

START_TEST(test_only_exec)
{
	size_t len;
	uint8_t *buf = good(ELFCLASS64, &len);
	tb_set_phdr(buf, 3, "p_flags", PF_R | PF_W | PF_X);
	struct elfimg *img = read_ok(buf, len, NULL);
	ck_assert_int_eq(elfimg_only_exec(img), -2);
	elfimg_free(img);
	tb_set_phdr(buf, 3, "p_flags", PF_R);
	tb_set_phdr(buf, 0, "p_flags", PF_R);
	img = read_ok(buf, len, NULL);
	ck_assert_int_eq(elfimg_only_exec(img), -1);
	elfimg_free(img);
	free(buf);
}
END_TEST

Suite *image_read_suite(void)
{
	Suite *s = suite_create("image_read");
	TCase *tc = tcase_create("reader");
	tcase_add_test(tc, test_read_elf64);
	tcase_add_test(tc, test_read_elf32);
	tcase_add_test(tc, test_read_file_and_dyn);
	tcase_add_test(tc, test_read_file_errors);
	tcase_add_test(tc, test_bad_ident);
	tcase_add_test(tc, test_bad_type);
	tcase_add_test(tc, test_machine_any);
	tcase_add_test(tc, test_bad_phdrs);
	tcase_add_test(tc, test_bad_segment);
	tcase_add_test(tc, test_bad_segment_elf32);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_too_many_segments);
	tcase_add_test(tc, test_small_align_lead);
	suite_add_tcase(s, tc);
	tc = tcase_create("relocation");
	tcase_add_test(tc, test_relocs);
	tcase_add_test(tc, test_only_exec);
	suite_add_tcase(s, tc);
	return s;
}
