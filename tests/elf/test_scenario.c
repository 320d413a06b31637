/*
 * The scenario commands for images: `image` and `submit-image` parsed (the file
 * read next to the scenario, once), checked (segment names, executable segments)
 * and run end to end; `verify value=`.
 */
#include <config.h>

#include <check.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gpusim/hw.h>
#include "sim/elf/image.h"
#include "sim/scenario/scenario.h"
#include "tests/elf/build_elf.h"
#include "tests/elf/image_suites.h"

static char dir[64];
static char scenario[96]; /* a scenario's name in dir: images are found next to it */

/* dir/NAME: an image whose packets WRITE_DATA 0x5a5a5a5a at data+0x10 and FILL
 * the data's 4 KiB bss page with 0xf00dcafe. With `two_x`, its data is X too. */
static void write_image(const char *name, bool two_x)
{
	static struct tb_words p;
	memset(&p, 0, sizeof p);
	tb_dw(&p, HW_PKT_HEADER(HW_PKT_WRITE_DATA, 0, 3));
	tb_qw(&p, 0x30310);
	tb_dw(&p, 0x5a5a5a5a);
	tb_dw(&p, HW_PKT_HEADER(HW_PKT_FILL, 0, 5));
	tb_qw(&p, 0x31000);
	tb_qw(&p, 0x1000);
	tb_dw(&p, 0xf00dcafe);
	static const uint8_t table[16] = { 1, 2, 3, 4 };
	struct tb_seg s[3] = {
		{ 0, PF_R | PF_X, 0x10100, p.n * 4, 0x10000, p.w, p.n * 4 },
		{ 0, PF_R, 0x20200, sizeof table, 0x10000, table, sizeof table },
		{ 0, PF_R | PF_W | (two_x ? PF_X : 0), 0x30300, 0x1d00, 0x10000, NULL, 0 },
	};
	struct tb_image im = { ELFCLASS64, 0, 0, s, 3 };
	uint8_t *buf;
	size_t len;
	char *tmp = tb_write(&im, &buf, &len);
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	ck_assert_int_eq(rename(tmp, path), 0);
	free(tmp);
	free(buf);
}

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/gpusim-image-scn.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(scenario, sizeof scenario, "%s/t.gsim", dir);
	write_image("fw.elf", false);
	write_image("twox.elf", true);
	/* Three 12 MiB segments: each fits a 16 MiB segment, not all together. */
	static const uint32_t nop = 0;
	struct tb_seg s[3] = {
		{ 0, PF_R | PF_X, 0x1000000, 12 << 20, 0x1000, &nop, 4 },
		{ 0, PF_R, 0x2000000, 12 << 20, 0x1000, NULL, 0 },
		{ 0, PF_R | PF_W, 0x3000000, 12 << 20, 0x1000, NULL, 0 },
	};
	struct tb_image im = { ELFCLASS64, 0, 0, s, 3 };
	uint8_t *buf;
	size_t len;
	char *tmp = tb_write(&im, &buf, &len);
	char path[128];
	snprintf(path, sizeof path, "%s/big.elf", dir);
	ck_assert_int_eq(rename(tmp, path), 0);
	free(tmp);
	free(buf);
}

static void teardown(void)
{
	char path[128];
	snprintf(path, sizeof path, "%s/fw.elf", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/twox.elf", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/big.elf", dir);
	unlink(path);
	rmdir(dir);
}

static void parse_ok(const char *text, struct scn_script *s)
{
	struct scn_error e;
	ck_assert_msg(scn_parse_string(scenario, text, strlen(text), s, &e) == 0, "parse: %u:%u: %s", e.line, e.col,
		      e.msg);
}

/* A parse (or, with `check`, static) error at line:col saying `want`. */
static void parse_bad(const char *text, bool check, uint32_t line, uint32_t col, const char *want)
{
	struct scn_script s;
	struct scn_error e;
	int rc = scn_parse_string(scenario, text, strlen(text), &s, &e);
	if (check) {
		ck_assert_msg(rc == 0, "parse: %s", e.msg);
		rc = scn_check(&s, &e);
		scn_script_free(&s);
	}
	ck_assert_msg(rc == -1, "expected an error '%s'", want);
	ck_assert_msg(strstr(e.msg, want), "expected '%s' in '%s'", want, e.msg);
	ck_assert_uint_eq(e.line, line);
	ck_assert_uint_eq(e.col, col);
}

START_TEST(test_parse_image)
{
	struct scn_script s;
	parse_ok("image fw fw.elf device=d1 prefer=gart only=gart,vram priority=high machine=62\n"
		 "image fw2 fw.elf\n"
		 "image fw3 fw.elf machine=62\n"
		 "submit-image fw\n"
		 "submit-image fw 0x0\n"
		 "verify fw.2 offset=0x310 size=4 value=0x5a5a5a5a\n",
		 &s);
	ck_assert_uint_eq(s.ncmds, 6);
	const struct scn_cmd *c = &s.cmds[0];
	ck_assert_int_eq(c->kind, SCN_IMAGE);
	ck_assert_str_eq(c->name, "fw");
	ck_assert_str_eq(c->device, "d1");
	ck_assert_uint_eq(c->nprefer, 1);
	ck_assert_uint_eq(c->prefer[0], GPUSIM_SEG_GART);
	ck_assert_int_eq(c->machine, 62);
	char want[128];
	snprintf(want, sizeof want, "%s/fw.elf", dir);
	ck_assert_str_eq(c->path, want); /* next to the scenario */
	ck_assert_ptr_nonnull(c->image);
	ck_assert_uint_eq(c->image->nsegs, 3);
	ck_assert_uint_eq(c->nnames, 3);
	ck_assert_str_eq(c->names[0], "fw.0");
	ck_assert_str_eq(c->names[2], "fw.2");
	/* Read once per file and machine=. */
	ck_assert_ptr_ne(s.cmds[1].image, c->image);
	ck_assert_int_eq(s.cmds[1].machine, ELFIMG_ANY_MACHINE);
	ck_assert_ptr_eq(s.cmds[2].image, c->image);
	ck_assert_uint_eq(s.nimages, 2);
	ck_assert_int_eq(s.cmds[3].kind, SCN_SUBMIT_IMAGE);
	ck_assert(!s.cmds[3].segment_given);
	ck_assert(s.cmds[4].segment_given);
	ck_assert_uint_eq(s.cmds[4].segment, 0);
	ck_assert(s.cmds[5].value_given);
	ck_assert_uint_eq(s.cmds[5].value, 0x5a5a5a5a);
	scn_script_free(&s);
	ck_assert_ptr_null(s.images);
}
END_TEST

START_TEST(test_parse_errors)
{
	parse_bad("image fw\n", false, 1, 9, "expected an ELF file name after image fw, found end of line");
	parse_bad("image 1fw fw.elf\n", false, 1, 7, "expected an image name, found '1fw'");
	parse_bad("\nimage fw none.elf\n", false, 2, 10, "cannot open image");
	parse_bad("image fw t.gsim\n", false, 1, 10, "cannot open image");
	parse_bad("image fw fw.elf machine=0x10000\n", false, 1, 17,
		  "expected an e_machine number (0..0xffff) for machine=, found '0x10000'");
	parse_bad("image fw fw.elf machine=3\n", false, 1, 10, "fw.elf: wrong machine: e_machine 62, expected 3");
	parse_bad("image fw fw.elf size=4K\n", false, 1, 17,
		  "unknown key 'size' for image (expected one of: device, prefer, only, priority, machine)");
	parse_bad("image fw fw.elf prefer=gart only=invisible\n", false, 1, 17,
		  "expected preferred segments within only=invisible, found 'gart'");
	/* A segment larger than the adapter can hold: the adapter line's limits. */
	parse_bad("adapter vram=16M visible=4M gart=16M\nimage fw big.elf\n", false, 2, 10,
		  "big.elf: the 3 segments need 0x2400000 bytes together, more than the device's VRAM and GART "
		  "(0x2000000)");
	parse_bad("adapter vram=8M visible=4M gart=8M\nimage fw big.elf\n", false, 2, 10,
		  "big.elf: segment 0 (program header 0): needs 0xc00000 bytes, more than the device can ever "
		  "hold in one segment (0x800000)");
	parse_bad("submit-image\n", false, 1, 13, "expected an image name after submit-image, found end of line");
	parse_bad("submit-image fw x\n", false, 1, 17, "expected a number for the segment, found 'x'");
	parse_bad("submit-image fw 1024\n", false, 1, 17, "expected a segment number below 1024, found '1024'");
	parse_bad("submit-image fw 0 1\n", false, 1, 19, "expected end of line, found '1'");
	parse_bad("alloc a size=4K\nverify a seed=1 value=2\n", false, 2, 17,
		  "expected seed=N or value=N for verify, found both");
	parse_bad("alloc a size=4K\nverify a\n", false, 2, 9,
		  "expected seed=N for verify (or value=N), found end of line");
	parse_bad("alloc a size=4K\nwrite a value=1\n", false, 2, 9, "unknown key 'value' for write");
}
END_TEST

START_TEST(test_check)
{
	parse_bad("submit-image fw\n", true, 1, 1, "unknown image 'fw'");
	parse_bad("image fw fw.elf\nsubmit-image fw 1\n", true, 2, 1,
		  "segment 1 of image 'fw' is not executable");
	parse_bad("image fw fw.elf\nsubmit-image fw 3\n", true, 2, 1, "image 'fw' has no segment 3 (it has 3");
	parse_bad("image fw twox.elf\nsubmit-image fw\n", true, 2, 1,
		  "image 'fw' has several executable segments: name the one to submit (submit-image fw SEG)");
	parse_bad("image fw fw.elf\nfree fw.0\nsubmit-image fw\n", true, 3, 1, "allocation 'fw.0' was freed");
	parse_bad("image fw fw.elf\nverify fw.3 seed=1\n", true, 2, 1, "unknown allocation 'fw.3'");
	parse_bad("alloc fw.1 size=4K\nimage fw fw.elf\n", true, 2, 1, "allocation 'fw.1' already exists");
	/* Failed on purpose: nothing defined. */
	parse_bad("expect status STATUS_INVALID_PARAMETER image fw fw.elf only=visible\nverify fw.0 value=0\n",
		  true, 2, 1, "unknown allocation 'fw.0'");
	/* Freed whole, the name loads again. */
	struct scn_script s;
	struct scn_error e;
	parse_ok("image fw fw.elf\nfree fw.0 fw.1 fw.2\nimage fw twox.elf\nsubmit-image fw 2\n", &s);
	ck_assert_msg(scn_check(&s, &e) == 0, "%s", e.msg);
	scn_script_free(&s);
}
END_TEST

struct out {
	struct scn_result res;
	int rc;
	char *out, *err;
};

static void run(const char *text, struct out *o)
{
	struct scn_script s;
	struct scn_error e;
	parse_ok(text, &s);
	ck_assert_msg(scn_check(&s, &e) == 0, "check: %s", e.msg);
	size_t no = 0, ne = 0;
	FILE *fo = open_memstream(&o->out, &no), *fe = open_memstream(&o->err, &ne);
	struct scn_options opt = { .out = fo, .err = fe };
	o->rc = scn_run(&s, &opt, &o->res);
	fclose(fo);
	fclose(fe);
	scn_script_free(&s);
}

START_TEST(test_run)
{
	struct out o;
	run("adapter vram=32M visible=8M gart=16M\n"
	    "image fw fw.elf\n"
	    "expect fw.2 in invisible\n"
	    "verify fw.2 value=0\n"
	    "verify fw.1 offset=0x200 size=4 value=0x04030201\n"
	    "submit-image fw\n"
	    "verify fw.2 offset=0x310 size=4 value=0x5a5a5a5a\n"
	    "verify fw.2 offset=0x314 size=0xcec value=0\n"
	    "verify fw.2 offset=0x1000 size=0x1000 value=0xf00dcafe\n"
	    "expect status STATUS_ACCESS_DENIED write fw.1 seed=3\n"
	    "expect status STATUS_ACCESS_DENIED lock fw.0\n"
	    "write fw.2 offset=0x400 size=0x100 seed=4\n"
	    "verify fw.2 offset=0x400 size=0x100 seed=4\n"
	    "expect stat faults == 0\n",
	    &o);
	ck_assert_msg(o.rc == 0, "%s", o.err);
	ck_assert_uint_eq(o.res.failed, 0);
	ck_assert_uint_eq(o.res.expectations, 10 + 2); /* and the two end checks */
	free(o.out);
	free(o.err);

	/* A verify that does not hold says where. */
	run("image fw fw.elf\nverify fw.1 offset=0x200 size=4 value=0x04030209\n", &o);
	ck_assert_int_eq(o.rc, 1);
	ck_assert_msg(strstr(o.err, "t.gsim:2: verify fw.1: byte 0x200 is 0x01, expected 0x09"), "%s", o.err);
	free(o.out);
	free(o.err);

	/* A load the driver refuses (visible VRAM cannot give 64 KiB alignment). */
	run("image fw fw.elf only=visible\n", &o);
	ck_assert_int_eq(o.rc, 1);
	ck_assert_msg(strstr(o.err, "t.gsim:1: image fw: expected STATUS_SUCCESS, got STATUS_INVALID_PARAMETER"),
		      "%s", o.err);
	ck_assert_msg(strstr(o.err, "D3DKMTCreateAllocation2 of its 3 segments failed"), "%s", o.err);
	ck_assert_uint_eq(o.res.stats.allocations, 0);
	free(o.out);
	free(o.err);

	/* A segment's name taken over by another allocation: found at run time. */
	run("image fw fw.elf\nfree fw.1\nalloc fw.1 size=4K\nsubmit-image fw\n", &o);
	ck_assert_int_eq(o.rc, 1);
	ck_assert_msg(strstr(o.err, "t.gsim:4: submit-image fw: fw.1 is no longer segment 1 of image fw "
				    "(freed or replaced)"),
		      "%s", o.err);
	free(o.out);
	free(o.err);
}
END_TEST

Suite *image_scenario_suite(void)
{
	Suite *s = suite_create("image_scenario");
	TCase *tc = tcase_create("commands");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_parse_image);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_check);
	tcase_add_test(tc, test_run);
	suite_add_tcase(s, tc);
	return s;
}
