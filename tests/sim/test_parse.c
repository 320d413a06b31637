/*
 * The scenario parser and static check: every command parses to the right fields,
 * every kind of error is reported at the right line and column with a message that
 * says what was expected and what was found, include and repeat expand as specified.
 */
#include <config.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/scenario/scenario.h"
#include "tests/sim/sim_suites.h"

/* In parse.c, not in scenario.h: lets the cap be tested without 10^7 commands. */

static struct scn_script S;
static struct scn_error E;

static void script_teardown(void)
{
	scn_script_free(&S);
	scn_parse_set_max_commands(0);
}

static int parse(const char *text)
{
	scn_script_free(&S);
	return scn_parse_string("t.gsim", text, strlen(text), &S, &E);
}

#define PARSE_OK(text)                                                                        \
	do {                                                                                  \
		int rc_ = parse(text);                                                        \
		ck_assert_msg(rc_ == 0, "\"%s\": %s:%u:%u: %s", (text), E.file, E.line, E.col, \
			      E.msg);                                                         \
	} while (0)

#define CHECK_OK(text)                                                                      \
	do {                                                                                \
		PARSE_OK(text);                                                             \
		ck_assert_msg(scn_check(&S, &E) == 0, "\"%s\": %s:%u:%u: %s", (text), E.file, \
			      E.line, E.col, E.msg);                                        \
	} while (0)

static void expect_error(const char *what, const char *text, uint32_t line, uint32_t col,
			 const char *w1, const char *w2)
{
	ck_assert_msg(E.line == line && E.col == col, "%s \"%s\": error at %u:%u, expected %u:%u (%s)",
		      what, text, E.line, E.col, line, col, E.msg);
	ck_assert_msg(strstr(E.msg, w1), "%s \"%s\": message \"%s\" lacks \"%s\"", what, text, E.msg,
		      w1);
	if (w2)
		ck_assert_msg(strstr(E.msg, w2), "%s \"%s\": message \"%s\" lacks \"%s\"", what, text,
			      E.msg, w2);
}

static void parse_fails(const char *text, uint32_t line, uint32_t col, const char *w1,
			const char *w2)
{
	ck_assert_msg(parse(text) == -1, "\"%s\" parsed", text);
	ck_assert_str_eq(E.file, "t.gsim");
	ck_assert_ptr_null(S.cmds);
	ck_assert_uint_eq(S.ncmds, 0);
	ck_assert_uint_eq(S.nfiles, 0);
	expect_error("parse", text, line, col, w1, w2);
}

static void check_fails(const char *text, uint32_t line, uint32_t col, const char *w1,
			const char *w2)
{
	PARSE_OK(text);
	ck_assert_msg(scn_check(&S, &E) == -1, "\"%s\" passed the check", text);
	ck_assert_str_eq(E.file, "t.gsim");
	expect_error("check", text, line, col, w1, w2);
}

/* ---- commands and their fields ------------------------------------------------ */

START_TEST(test_adapter_keys)
{
	PARSE_OK("adapter vram=1G visible=256M gart=2G sysmem=4G policy=lru seed=0x2a");
	ck_assert_uint_eq(S.ncmds, 1);
	const struct scn_cmd *c = &S.cmds[0];
	ck_assert_int_eq(c->kind, SCN_ADAPTER);
	ck_assert_uint_eq(c->config.hw.vram, 1ull << 30);
	ck_assert_uint_eq(c->config.hw.visible, 256ull << 20);
	ck_assert_uint_eq(c->config.hw.gart, 2ull << 30);
	ck_assert_uint_eq(c->config.hw.sysmem, 4ull << 30);
	ck_assert_str_eq(c->config.policy, "lru");
	ck_assert_uint_eq(c->config.seed, 42);
	ck_assert(c->seed_given);
}
END_TEST

START_TEST(test_adapter_defaults)
{
	struct gpusim_config def;

	gpusim_config_default(&def);
	PARSE_OK("adapter");
	const struct scn_cmd *c = &S.cmds[0];
	ck_assert(!c->seed_given);
	ck_assert_uint_eq(c->config.hw.vram, def.hw.vram);
	ck_assert_uint_eq(c->config.hw.visible, def.hw.visible);
	ck_assert_uint_eq(c->config.hw.gart_base, def.hw.gart_base);
	ck_assert_uint_eq(c->config.hw.tlb_entries, def.hw.tlb_entries);
	ck_assert_str_eq(c->config.policy, "arc");
	PARSE_OK("adapter vram=64M visible=64M policy=priority-lru");
	ck_assert_uint_eq(S.cmds[0].config.hw.visible, 64ull << 20);
}
END_TEST

START_TEST(test_device)
{
	PARSE_OK("device gpu.0-a_b");
	ck_assert_int_eq(S.cmds[0].kind, SCN_DEVICE);
	ck_assert_str_eq(S.cmds[0].name, "gpu.0-a_b");
}
END_TEST

START_TEST(test_alloc_every_key)
{
	PARSE_OK("alloc tex device=d1 size=64M prefer=visible,gart only=visible,gart align=64K "
		 "priority=high cpu pinned resource=R shared");
	const struct scn_cmd *c = &S.cmds[0];
	ck_assert_int_eq(c->kind, SCN_ALLOC);
	ck_assert_str_eq(c->name, "tex");
	ck_assert_str_eq(c->device, "d1");
	ck_assert_uint_eq(c->size, 64ull << 20);
	ck_assert_uint_eq(c->nprefer, 2);
	ck_assert_uint_eq(c->prefer[0], GPUSIM_SEG_VISIBLE);
	ck_assert_uint_eq(c->prefer[1], GPUSIM_SEG_GART);
	ck_assert_uint_eq(c->only, GPUSIM_SEG_BIT(GPUSIM_SEG_VISIBLE) | GPUSIM_SEG_BIT(GPUSIM_SEG_GART));
	ck_assert_uint_eq(c->align, 65536);
	ck_assert_uint_eq(c->priority, D3DDDI_ALLOCATIONPRIORITY_HIGH);
	ck_assert(c->cpu && c->pinned && c->shared);
	ck_assert_str_eq(c->resource, "R");
}
END_TEST

START_TEST(test_alloc_defaults)
{
	PARSE_OK("alloc a size=0x1000");
	const struct scn_cmd *c = &S.cmds[0];
	ck_assert_ptr_null(c->device);
	ck_assert_uint_eq(c->size, 4096);
	ck_assert_uint_eq(c->nprefer, 0);
	ck_assert_uint_eq(c->only, 0);
	ck_assert_uint_eq(c->align, 0);
	ck_assert_uint_eq(c->priority, 0);
	ck_assert(!c->cpu && !c->pinned && !c->shared);
	ck_assert_ptr_null(c->resource);
	PARSE_OK("alloc a size=4K device=default");
	ck_assert_ptr_null(S.cmds[0].device);
}
END_TEST

START_TEST(test_alloc_vram_segments)
{
	PARSE_OK("alloc a size=4K prefer=vram only=vram");
	const struct scn_cmd *c = &S.cmds[0];
	ck_assert_uint_eq(c->nprefer, 2);
	ck_assert_uint_eq(c->prefer[0], GPUSIM_SEG_INVISIBLE);
	ck_assert_uint_eq(c->prefer[1], GPUSIM_SEG_VISIBLE);
	ck_assert_uint_eq(c->only,
			  GPUSIM_SEG_BIT(GPUSIM_SEG_VISIBLE) | GPUSIM_SEG_BIT(GPUSIM_SEG_INVISIBLE));
	PARSE_OK("alloc a size=4K prefer=gart,vram");
	ck_assert_uint_eq(S.cmds[0].nprefer, 3);
	ck_assert_uint_eq(S.cmds[0].prefer[0], GPUSIM_SEG_GART);
	ck_assert_uint_eq(S.cmds[0].prefer[2], GPUSIM_SEG_VISIBLE);
	PARSE_OK("alloc a size=4K only=invisible");
	ck_assert_uint_eq(S.cmds[0].only, GPUSIM_SEG_BIT(GPUSIM_SEG_INVISIBLE));
}
END_TEST

START_TEST(test_priority_levels)
{
	static const struct {
		const char *text;
		uint32_t value;
	} cases[] = {
		{ "minimum", D3DDDI_ALLOCATIONPRIORITY_MINIMUM }, { "low", D3DDDI_ALLOCATIONPRIORITY_LOW },
		{ "normal", D3DDDI_ALLOCATIONPRIORITY_NORMAL },   { "high", D3DDDI_ALLOCATIONPRIORITY_HIGH },
		{ "maximum", D3DDDI_ALLOCATIONPRIORITY_MAXIMUM }, { "1", 1 },
		{ "0xFFFFFFFF", 0xffffffffu },                   { "0x78000000", 0x78000000u },
	};
	char line[128];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(line, sizeof line, "alloc a size=4K priority=%s\npriority a %s", cases[i].text,
			 cases[i].text);
		PARSE_OK(line);
		ck_assert_uint_eq(S.cmds[0].priority, cases[i].value);
		ck_assert_int_eq(S.cmds[1].kind, SCN_PRIORITY);
		ck_assert_str_eq(S.cmds[1].name, "a");
		ck_assert_uint_eq(S.cmds[1].priority, cases[i].value);
	}
}
END_TEST

START_TEST(test_name_lists)
{
	PARSE_OK("free a b c\nresident x\nevict p q");
	ck_assert_int_eq(S.cmds[0].kind, SCN_FREE);
	ck_assert_uint_eq(S.cmds[0].nnames, 3);
	ck_assert_str_eq(S.cmds[0].names[0], "a");
	ck_assert_str_eq(S.cmds[0].names[2], "c");
	ck_assert_int_eq(S.cmds[1].kind, SCN_RESIDENT);
	ck_assert_uint_eq(S.cmds[1].nnames, 1);
	ck_assert_int_eq(S.cmds[2].kind, SCN_EVICT);
	ck_assert_str_eq(S.cmds[2].names[1], "q");
}
END_TEST

START_TEST(test_write_verify)
{
	PARSE_OK("write a offset=16 size=1K seed=7\nverify a seed=0x7");
	const struct scn_cmd *w = &S.cmds[0], *v = &S.cmds[1];
	ck_assert_int_eq(w->kind, SCN_WRITE);
	ck_assert_str_eq(w->name, "a");
	ck_assert_uint_eq(w->offset, 16);
	ck_assert_uint_eq(w->length, 1024);
	ck_assert(w->length_given);
	ck_assert_uint_eq(w->seed, 7);
	ck_assert_int_eq(v->kind, SCN_VERIFY);
	ck_assert_uint_eq(v->offset, 0);
	ck_assert_uint_eq(v->length, 0);
	ck_assert(!v->length_given);
	ck_assert_uint_eq(v->seed, 7);
}
END_TEST

START_TEST(test_lock_unlock)
{
	PARSE_OK("lock a\nlock b nowait\nunlock a");
	ck_assert_int_eq(S.cmds[0].kind, SCN_LOCK);
	ck_assert(!S.cmds[0].nowait);
	ck_assert(S.cmds[1].nowait);
	ck_assert_str_eq(S.cmds[1].name, "b");
	ck_assert_int_eq(S.cmds[2].kind, SCN_UNLOCK);
	ck_assert_str_eq(S.cmds[2].name, "a");
}
END_TEST

START_TEST(test_submit)
{
	PARSE_OK("submit a b\nsubmit device=d2 c\nsubmit\nsubmit x device=default");
	ck_assert_int_eq(S.cmds[0].kind, SCN_SUBMIT);
	ck_assert_ptr_null(S.cmds[0].device);
	ck_assert_uint_eq(S.cmds[0].nnames, 2);
	ck_assert_str_eq(S.cmds[1].device, "d2");
	ck_assert_str_eq(S.cmds[1].names[0], "c");
	ck_assert_uint_eq(S.cmds[2].nnames, 0);
	ck_assert_ptr_null(S.cmds[3].device);
	ck_assert_str_eq(S.cmds[3].names[0], "x");
}
END_TEST

START_TEST(test_gpu_work)
{
	PARSE_OK("gpu-fill a value=0xdeadbeef\ngpu-fill b value=1 stale\ngpu-copy a b");
	ck_assert_int_eq(S.cmds[0].kind, SCN_GPU_FILL);
	ck_assert_uint_eq(S.cmds[0].value, 0xdeadbeefu);
	ck_assert(!S.cmds[0].stale);
	ck_assert(S.cmds[1].stale);
	ck_assert_int_eq(S.cmds[2].kind, SCN_GPU_COPY);
	ck_assert_str_eq(S.cmds[2].name, "a");
	ck_assert_str_eq(S.cmds[2].name2, "b");
}
END_TEST

START_TEST(test_inject_idle_show_snapshot)
{
	PARSE_OK("inject device-removed\ninject dma-error\ninject sysmem-oom\n"
		 "inject sysmem-oom after=12\nidle\nshow\nsnapshot dump/out.elf");
	ck_assert_int_eq(S.cmds[0].inject, SCN_INJ_DEVICE_REMOVED);
	ck_assert_int_eq(S.cmds[1].inject, SCN_INJ_DMA_ERROR);
	ck_assert_int_eq(S.cmds[2].inject, SCN_INJ_SYSMEM_OOM);
	ck_assert_uint_eq(S.cmds[2].after, 0);
	ck_assert_uint_eq(S.cmds[3].after, 12);
	ck_assert_int_eq(S.cmds[4].kind, SCN_IDLE);
	ck_assert_int_eq(S.cmds[5].kind, SCN_SHOW);
	ck_assert_int_eq(S.cmds[6].kind, SCN_SNAPSHOT);
	ck_assert_str_eq(S.cmds[6].path, "dump/out.elf");
}
END_TEST

START_TEST(test_echo_verbatim)
{
	PARSE_OK("echo  hello,   world: size=4K {\t}  # not this\necho\n  echo x=1");
	ck_assert_int_eq(S.cmds[0].kind, SCN_ECHO);
	ck_assert_str_eq(S.cmds[0].text, "hello,   world: size=4K {\t}");
	ck_assert_uint_eq(S.cmds[0].loc.col, 1);
	ck_assert_str_eq(S.cmds[1].text, "");
	ck_assert_str_eq(S.cmds[2].text, "x=1");
	ck_assert_uint_eq(S.cmds[2].loc.col, 3);
	parse_fails("echoes hi", 1, 1, "unknown command 'echoes'", NULL);
}
END_TEST

START_TEST(test_expect_in)
{
	static const struct {
		const char *seg;
		enum scn_where where;
	} cases[] = {
		{ "visible", SCN_IN_VISIBLE }, { "invisible", SCN_IN_INVISIBLE },
		{ "vram", SCN_IN_VRAM },       { "gart", SCN_IN_GART },
		{ "sys", SCN_IN_SYS },         { "resident", SCN_IN_RESIDENT },
	};
	char line[64];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(line, sizeof line, "expect buf in %s", cases[i].seg);
		PARSE_OK(line);
		ck_assert_int_eq(S.cmds[0].kind, SCN_EXPECT_IN);
		ck_assert_str_eq(S.cmds[0].name, "buf");
		ck_assert_int_eq(S.cmds[0].where, cases[i].where);
	}
	/* Allocations may be called stat or status. */
	PARSE_OK("expect stat in gart\nexpect status in sys");
	ck_assert_int_eq(S.cmds[0].kind, SCN_EXPECT_IN);
	ck_assert_str_eq(S.cmds[0].name, "stat");
	ck_assert_str_eq(S.cmds[1].name, "status");
}
END_TEST

START_TEST(test_expect_stat)
{
	static const char *const keys[] = {
		"evictions", "page_ins", "moves", "bytes_in", "bytes_out", "faults", "submits",
		"allocations", "time", "usage.local", "budget.local", "usage.nonlocal", "budget.nonlocal",
	};
	static const struct {
		const char *op;
		enum scn_cmp cmp;
	} ops[] = { { "==", SCN_EQ }, { "!=", SCN_NE }, { "<", SCN_LT },
		    { "<=", SCN_LE }, { ">", SCN_GT },  { ">=", SCN_GE } };
	char line[96];

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *op = ops[i % 6].op;
		snprintf(line, sizeof line, "expect stat %s %s 64M", keys[i], op);
		PARSE_OK(line);
		ck_assert_int_eq(S.cmds[0].kind, SCN_EXPECT_STAT);
		ck_assert_str_eq(S.cmds[0].stat_key, keys[i]);
		ck_assert_int_eq(S.cmds[0].cmp, ops[i % 6].cmp);
		ck_assert_uint_eq(S.cmds[0].stat_value, 64ull << 20);
	}
}
END_TEST

START_TEST(test_expect_status)
{
	PARSE_OK("expect status STATUS_NO_VIDEO_MEMORY  alloc big size=1T only=vram");
	const struct scn_cmd *c = &S.cmds[0];
	ck_assert_int_eq(c->kind, SCN_EXPECT_STATUS);
	ck_assert_int_eq(c->status, STATUS_GRAPHICS_NO_VIDEO_MEMORY);
	ck_assert_str_eq(c->status_name, "STATUS_NO_VIDEO_MEMORY");
	ck_assert_uint_eq(c->loc.col, 1);
	ck_assert_ptr_nonnull(c->inner);
	ck_assert_int_eq(c->inner->kind, SCN_ALLOC);
	ck_assert_str_eq(c->inner->name, "big");
	ck_assert_uint_eq(c->inner->size, 1ull << 40);
	ck_assert_uint_eq(c->inner->loc.line, 1);
	ck_assert_uint_eq(c->inner->loc.col, 39);
	ck_assert_ptr_eq(c->inner->loc.file, c->loc.file);
	PARSE_OK("expect status STATUS_PENDING resident a b");
	ck_assert_int_eq(S.cmds[0].status, STATUS_PENDING);
	ck_assert_uint_eq(S.cmds[0].inner->nnames, 2);
}
END_TEST

START_TEST(test_status_names)
{
	NTSTATUS st = 1;

	ck_assert(scn_status_from_name("STATUS_SUCCESS", &st));
	ck_assert_int_eq(st, STATUS_SUCCESS);
	ck_assert(scn_status_from_name("STATUS_NO_VIDEO_MEMORY", &st));
	ck_assert_int_eq(st, STATUS_GRAPHICS_NO_VIDEO_MEMORY);
	ck_assert(scn_status_from_name("STATUS_GRAPHICS_NO_VIDEO_MEMORY", &st));
	ck_assert_int_eq(st, STATUS_GRAPHICS_NO_VIDEO_MEMORY);
	ck_assert(scn_status_from_name("STATUS_GRAPHICS_ALLOCATION_CONTENT_LOST", &st));
	ck_assert_int_eq(st, STATUS_GRAPHICS_ALLOCATION_CONTENT_LOST);
	ck_assert(!scn_status_from_name("STATUS_BOGUS", &st));
	ck_assert(!scn_status_from_name("status_success", &st));
	ck_assert(!scn_status_from_name(NULL, &st));
	ck_assert_str_eq(scn_status_name(STATUS_GRAPHICS_NO_VIDEO_MEMORY), "STATUS_NO_VIDEO_MEMORY");
	ck_assert_str_eq(scn_status_name(STATUS_NO_MEMORY), "STATUS_NO_MEMORY");
	ck_assert_str_eq(scn_status_name(STATUS_DEVICE_REMOVED), "STATUS_DEVICE_REMOVED");
	ck_assert_str_eq(scn_status_name(STATUS_GRAPHICS_ALLOCATION_BUSY),
			 "STATUS_GRAPHICS_ALLOCATION_BUSY");
	ck_assert_str_eq(scn_status_name((NTSTATUS)0xC0DEC0DE), "unknown status");
	/* Every name maps back to a name of the same value. */
	static const char *const all[] = {
		"STATUS_TIMEOUT", "STATUS_UNSUCCESSFUL", "STATUS_NOT_IMPLEMENTED",
		"STATUS_INVALID_HANDLE", "STATUS_INVALID_PARAMETER", "STATUS_ACCESS_DENIED",
		"STATUS_BUFFER_TOO_SMALL", "STATUS_OBJECT_TYPE_MISMATCH", "STATUS_NOT_SUPPORTED",
		"STATUS_INVALID_DEVICE_STATE", "STATUS_GRAPHICS_CANT_LOCK_MEMORY",
		"STATUS_GRAPHICS_TRY_AGAIN_LATER", "STATUS_GRAPHICS_ALLOCATION_INVALID",
		"STATUS_GRAPHICS_CANT_EVICT_PINNED_ALLOCATION",
		"STATUS_GRAPHICS_INVALID_ALLOCATION_USAGE",
		"STATUS_GRAPHICS_CANT_RENDER_LOCKED_ALLOCATION", "STATUS_GRAPHICS_ALLOCATION_CLOSED",
		"STATUS_GRAPHICS_INVALID_ALLOCATION_INSTANCE",
		"STATUS_GRAPHICS_INVALID_ALLOCATION_HANDLE",
		"STATUS_GRAPHICS_WRONG_ALLOCATION_DEVICE",
	};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		ck_assert_msg(scn_status_from_name(all[i], &st), "%s", all[i]);
		ck_assert_str_eq(scn_status_name(st), all[i]);
	}
}
END_TEST

/* ---- lines, words, locations --------------------------------------------------- */

START_TEST(test_locations_comments_blank_lines)
{
	PARSE_OK("# heading\n\n   \t\n  alloc a size=4K # trailing\n#idle\n\tfree a#x\n");
	ck_assert_uint_eq(S.ncmds, 2);
	ck_assert_str_eq(S.cmds[0].loc.file, "t.gsim");
	ck_assert_uint_eq(S.cmds[0].loc.line, 4);
	ck_assert_uint_eq(S.cmds[0].loc.col, 3);
	ck_assert_uint_eq(S.cmds[1].loc.line, 6);
	ck_assert_uint_eq(S.cmds[1].loc.col, 2);
	ck_assert_str_eq(S.cmds[1].names[0], "a");
	ck_assert_uint_eq(S.nfiles, 1);
	ck_assert_ptr_eq(S.cmds[0].loc.file, S.files[0]);
}
END_TEST

START_TEST(test_crlf)
{
	PARSE_OK("alloc a size=4K\r\necho hi \r\n\r\nfree a\r\nverify b seed=1\r");
	ck_assert_uint_eq(S.ncmds, 4);
	ck_assert_uint_eq(S.cmds[0].size, 4096);
	ck_assert_str_eq(S.cmds[1].text, "hi");
	ck_assert_uint_eq(S.cmds[2].loc.line, 4);
	ck_assert_uint_eq(S.cmds[3].seed, 1);
	parse_fails("idle\r\nalloc a size=4K sz=1\r\n", 2, 17, "unknown key 'sz'", NULL);
}
END_TEST

START_TEST(test_tabs)
{
	PARSE_OK("\talloc\ta\t size=4K\t\tcpu\t");
	ck_assert_uint_eq(S.cmds[0].loc.col, 2);
	ck_assert_str_eq(S.cmds[0].name, "a");
	ck_assert(S.cmds[0].cpu);
	parse_fails("\talloc\ta\tsize=4K\tprefer=nope", 1, 18, "unknown segment 'nope'", NULL);
}
END_TEST

START_TEST(test_empty)
{
	PARSE_OK("");
	ck_assert_uint_eq(S.ncmds, 0);
	ck_assert_uint_eq(S.nfiles, 1);
	ck_assert_int_eq(scn_check(&S, &E), 0);
	PARSE_OK("# only a comment\n\n\t\n");
	ck_assert_uint_eq(S.ncmds, 0);
	scn_script_free(&S);
	ck_assert_int_eq(scn_parse_string("t.gsim", NULL, 0, &S, &E), 0);
	ck_assert_uint_eq(S.ncmds, 0);
	/* A byte order mark is not a word. */
	PARSE_OK("\xef\xbb\xbfidle");
	ck_assert_uint_eq(S.cmds[0].loc.col, 1);
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char text[] = "idle\nec\0ho x\n";

	scn_script_free(&S);
	ck_assert_int_eq(scn_parse_string("t.gsim", text, sizeof text - 1, &S, &E), -1);
	ck_assert_uint_eq(E.line, 2);
	ck_assert_uint_eq(E.col, 3);
	ck_assert_ptr_nonnull(strstr(E.msg, "NUL"));
}
END_TEST

START_TEST(test_line_cap)
{
	size_t n = SCN_MAX_LINE;
	char *text = malloc(n + 16);

	ck_assert_ptr_nonnull(text);
	/* Exactly the cap (CR not counted) is fine. */
	memcpy(text, "echo ", 5);
	memset(text + 5, 'x', n - 5);
	memcpy(text + n, "\r\nidle", 7);
	PARSE_OK(text);
	ck_assert_uint_eq(strlen(S.cmds[0].text), n - 5);
	ck_assert_uint_eq(S.cmds[1].loc.line, 2);
	/* One more byte is an error, even inside a comment. */
	memcpy(text, "idle\n#", 6);
	memset(text + 6, 'x', n);
	text[n + 6] = '\0';
	parse_fails(text, 2, SCN_MAX_LINE + 1, "expected at most 65536 bytes on a line", "65537");
	free(text);
}
END_TEST

START_TEST(test_parse_file_missing)
{
	ck_assert_int_eq(scn_parse_file("/nonexistent/dir/x.gsim", &S, &E), -1);
	ck_assert_str_eq(E.file, "/nonexistent/dir/x.gsim");
	ck_assert_uint_eq(E.line, 0);
	ck_assert_ptr_nonnull(strstr(E.msg, "cannot open"));
	ck_assert_uint_eq(S.ncmds, 0);
	scn_script_free(&S);  /* harmless after a failure, and twice */
	scn_script_free(&S);
	scn_script_free(NULL);
}
END_TEST

/* ---- repeat --------------------------------------------------------------------- */

START_TEST(test_repeat_names)
{
	CHECK_OK("repeat 10 {\n  alloc buf$i size=$iK\n}\nfree buf0 buf9");
	ck_assert_uint_eq(S.ncmds, 11);
	for (unsigned i = 0; i < 10; i++) {
		char name[16];
		snprintf(name, sizeof name, "buf%u", i);
		ck_assert_str_eq(S.cmds[i].name, name);
		ck_assert_uint_eq(S.cmds[i].size, i * 1024ull);
		ck_assert_uint_eq(S.cmds[i].loc.line, 2);
		ck_assert_uint_eq(S.cmds[i].loc.col, 3);
	}
	ck_assert_uint_eq(S.cmds[10].loc.line, 4);
}
END_TEST

START_TEST(test_repeat_nested)
{
	PARSE_OK("repeat 2 {\n echo outer $i\n repeat 3 {\n  echo inner $i$i\n }\n echo after $i\n}");
	static const char *const want[] = { "outer 0", "inner 00", "inner 11", "inner 22", "after 0",
					    "outer 1", "inner 00", "inner 11", "inner 22", "after 1" };
	ck_assert_uint_eq(S.ncmds, 10);
	for (size_t i = 0; i < 10; i++)
		ck_assert_str_eq(S.cmds[i].text, want[i]);
	ck_assert_uint_eq(S.cmds[1].loc.line, 4);
	/* The count of an inner repeat may use the outer $i. */
	PARSE_OK("repeat 4 {\n  repeat $i {\n    idle\n  }\n}");
	ck_assert_uint_eq(S.ncmds, 0 + 1 + 2 + 3);
}
END_TEST

START_TEST(test_repeat_zero_and_empty)
{
	PARSE_OK("repeat 0 {\n  this is not parsed\n}\nrepeat 99999999999 {\n}\nidle");
	ck_assert_uint_eq(S.ncmds, 1);
	ck_assert_uint_eq(S.cmds[0].loc.line, 6);
}
END_TEST

START_TEST(test_repeat_columns_after_substitution)
{
	/* $i shrinks ("0") and grows ("430"): columns are those of the text as written. */
	parse_fails("repeat 12 {\n  alloc b$i$i$i$i size=4K bad=1\n}", 2, 27, "unknown key 'bad'",
		    NULL);
	parse_fails("repeat 431 {\n gpu-fill x$i$i$i value=$i$i$i0\n}", 2, 19,
		    "expected a 32-bit value", "4304304300");
}
END_TEST

START_TEST(test_command_cap)
{
	/* Refused before anything is expanded. */
	parse_fails("idle\nrepeat 99999999999 {\n  idle\n}", 2, 8, "expected at most 1000000 commands",
		    NULL);
	parse_fails("repeat 1000001 {\n  idle\n}", 1, 8, "1000000", NULL);
	/* The exact boundary, with a small cap. */
	scn_parse_set_max_commands(50);
	parse_fails("repeat 4 {\n  repeat 15 {\n    idle\n  }\n}", 2, 10, "expected at most 50 commands",
		    NULL);
	PARSE_OK("repeat 50 {\n  idle\n}");
	ck_assert_uint_eq(S.ncmds, 50);
	parse_fails("repeat 51 {\n  idle\n}", 1, 8, "expected at most 50 commands", NULL);
	parse_fails("repeat 25 {\n  idle\n  idle\n}\nidle", 5, 1, "expected at most 50 commands", NULL);
	/* Loops over empty loops cost time, not commands: capped too. */
	parse_fails("repeat 99999 {\n repeat 99999 {\n  repeat 0 {\n  }\n }\n}", 1, 8,
		    "expected at most 100 lines", NULL);
	parse_fails("repeat 50 {\n repeat 50 {\n  repeat 0 {\n  }\n }\n}", 2, 9,
		    "expected at most 100 lines", NULL);
	/* And long lines cost memory: text is capped at 100 bytes a command. */
	char text[256];
	snprintf(text, sizeof text, "repeat 40 {\n  echo %0150d\n}", 0);
	parse_fails(text, 1, 8, "expected at most 5000 bytes of text", NULL);
	scn_parse_set_max_commands(0);
}
END_TEST

START_TEST(test_repeat_depth_cap)
{
	char text[2048];

	/* 64 levels are fine, the 65th is not. */
	for (int levels = 64; levels <= 65; levels++) {
		text[0] = '\0';
		for (int i = 0; i < levels; i++)
			strcat(text, "repeat 1 {\n");
		strcat(text, "idle\n");
		for (int i = 0; i < levels; i++)
			strcat(text, "}\n");
		if (levels == 64) {
			PARSE_OK(text);
			ck_assert_uint_eq(S.ncmds, 1);
			ck_assert_uint_eq(S.cmds[0].loc.line, 65);
		} else {
			parse_fails(text, 65, 1, "expected repeat nested at most 64 deep", NULL);
		}
	}
}
END_TEST

/* ---- include ----------------------------------------------------------------- */

static char tmpdir[64];

static void tmpdir_setup(void)
{
	strcpy(tmpdir, "/tmp/gpusim-parse-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void tmpdir_teardown(void)
{
	if (tmpdir[0])
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

/* Write tmpdir/name (directories made as needed); returns the path in a static buffer. */
static const char *put(const char *name, const char *text)
{
	static char path[512];
	char *slash;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	for (slash = strchr(path + strlen(tmpdir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0700);
		*slash = '/';
	}
	FILE *fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	return path;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);
	return a >= b && !strcmp(s + a - b, tail);
}

START_TEST(test_include)
{
	put("inc/sub/common.gsim", "adapter vram=64M visible=16M\n\ninclude more.gsim\n");
	put("inc/sub/more.gsim", "# the device\n  device d1\n");
	const char *main_path = put("inc/main.gsim", "include sub/common.gsim\necho main\n"
						     "alloc x size=4K device=d1\n");
	ck_assert_int_eq(scn_parse_file(main_path, &S, &E), 0);
	ck_assert_uint_eq(S.ncmds, 4);
	ck_assert_int_eq(S.cmds[0].kind, SCN_ADAPTER);
	ck_assert(ends_with(S.cmds[0].loc.file, "inc/sub/common.gsim"));
	ck_assert_uint_eq(S.cmds[0].loc.line, 1);
	ck_assert_int_eq(S.cmds[1].kind, SCN_DEVICE);
	ck_assert(ends_with(S.cmds[1].loc.file, "inc/sub/more.gsim"));
	ck_assert_uint_eq(S.cmds[1].loc.line, 2);
	ck_assert_uint_eq(S.cmds[1].loc.col, 3);
	ck_assert_str_eq(S.cmds[2].loc.file, main_path);
	ck_assert_uint_eq(S.cmds[2].loc.line, 2);
	ck_assert_uint_eq(S.cmds[3].loc.line, 3);
	ck_assert_uint_eq(S.nfiles, 3);
	ck_assert_int_eq(scn_check(&S, &E), 0);
}
END_TEST

START_TEST(test_include_from_string)
{
	char name[256];

	put("str/part.gsim", "idle\n");
	/* The name need not exist: includes are relative to its directory. */
	snprintf(name, sizeof name, "%s/str/virtual.gsim", tmpdir);
	scn_script_free(&S);
	ck_assert_int_eq(scn_parse_string(name, "include part.gsim\ninclude part.gsim", 35, &S, &E), 0);
	ck_assert_uint_eq(S.ncmds, 2);
	ck_assert_uint_eq(S.nfiles, 2);  /* read once */
	ck_assert(ends_with(S.cmds[0].loc.file, "str/part.gsim"));
}
END_TEST

START_TEST(test_include_in_repeat)
{
	put("rep/part0.gsim", "alloc first size=4K\n");
	put("rep/part1.gsim", "alloc second$i size=8K\n");
	const char *p = put("rep/main.gsim", "repeat 2 {\n  include part$i.gsim\n}\n");
	ck_assert_int_eq(scn_parse_file(p, &S, &E), 0);
	ck_assert_uint_eq(S.ncmds, 2);
	ck_assert_str_eq(S.cmds[0].name, "first");
	ck_assert_str_eq(S.cmds[1].name, "second1");  /* the includer's $i */
	ck_assert(ends_with(S.cmds[1].loc.file, "rep/part1.gsim"));
}
END_TEST

START_TEST(test_include_cycle)
{
	put("cyc/a.gsim", "idle\ninclude b.gsim\n");
	put("cyc/b.gsim", "idle\n  include ../cyc/a.gsim\n");
	const char *p = put("cyc/top.gsim", "include a.gsim\n");
	ck_assert_int_eq(scn_parse_file(p, &S, &E), -1);
	ck_assert_msg(ends_with(E.file, "cyc/b.gsim"), "%s", E.file);
	ck_assert_uint_eq(E.line, 2);
	ck_assert_uint_eq(E.col, 11);
	ck_assert_msg(strstr(E.msg, "include cycle: ") && strstr(E.msg, "a.gsim -> ") &&
			      strstr(E.msg, "b.gsim -> ") && ends_with(E.msg, "a.gsim"),
		      "%s", E.msg);
	ck_assert_ptr_null(strstr(E.msg, "top.gsim"));
	ck_assert_uint_eq(S.ncmds, 0);
	p = put("cyc/self.gsim", "include self.gsim\n");
	ck_assert_int_eq(scn_parse_file(p, &S, &E), -1);
	ck_assert_uint_eq(E.col, 9);
	ck_assert_ptr_nonnull(strstr(E.msg, "include cycle"));
}
END_TEST

START_TEST(test_include_missing)
{
	const char *p = put("miss/main.gsim", "idle\n\ninclude nothere.gsim\n");
	ck_assert_int_eq(scn_parse_file(p, &S, &E), -1);
	ck_assert(ends_with(E.file, "miss/main.gsim"));
	ck_assert_uint_eq(E.line, 3);
	ck_assert_uint_eq(E.col, 9);
	ck_assert_ptr_nonnull(strstr(E.msg, "cannot open"));
	ck_assert_ptr_nonnull(strstr(E.msg, "miss/nothere.gsim"));
	/* A directory is not a scenario. */
	p = put("miss/dir.gsim", "include .\n");
	ck_assert_int_eq(scn_parse_file(p, &S, &E), -1);
	ck_assert_uint_eq(E.line, 1);
	ck_assert_ptr_nonnull(strstr(E.msg, "cannot open"));
}
END_TEST

START_TEST(test_include_depth)
{
	char name[32], text[64];

	for (int i = 0; i <= SCN_MAX_INCLUDE_DEPTH + 1; i++) {
		snprintf(name, sizeof name, "deep/d%d.gsim", i);
		snprintf(text, sizeof text, "echo %d\ninclude d%d.gsim\n", i, i + 1);
		put(name, text);
	}
	/* d0 includes d1 ... d32 includes d33: 32 levels are fine, the 33rd is not. */
	snprintf(name, sizeof name, "deep/d%d.gsim", SCN_MAX_INCLUDE_DEPTH + 1);
	put(name, "echo last\n");
	char path[512];
	snprintf(path, sizeof path, "%s/deep/d1.gsim", tmpdir);
	ck_assert_int_eq(scn_parse_file(path, &S, &E), 0);
	ck_assert_uint_eq(S.ncmds, SCN_MAX_INCLUDE_DEPTH + 1);
	scn_script_free(&S);  /* the parser overwrites `out` without looking at it */
	snprintf(path, sizeof path, "%s/deep/d0.gsim", tmpdir);
	ck_assert_int_eq(scn_parse_file(path, &S, &E), -1);
	ck_assert_msg(ends_with(E.file, "deep/d32.gsim"), "%s", E.file);
	ck_assert_uint_eq(E.line, 2);
	ck_assert_uint_eq(E.col, 9);
	ck_assert_ptr_nonnull(strstr(E.msg, "expected include nested at most 32 deep"));
}
END_TEST

/* ---- what may be read: regular files, bounded, under the scenario's directory ---- */

static const char *tpath(const char *name)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	return path;
}

/* The high-water mark of this process's resident memory, in KiB: a parse that
 * read a large file would have raised it by that much. */
static long maxrss_kib(void)
{
	struct rusage ru;
	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

START_TEST(test_main_fifo)
{
	/* A FIFO nobody writes to: opening it for reading used to wait for a writer. If
	 * it still did, the test would hang until check's timeout. */
	put("fifo/keep", "");
	ck_assert_int_eq(mkfifo(tpath("fifo/main.gsim"), 0600), 0);
	ck_assert_int_eq(scn_parse_file(tpath("fifo/main.gsim"), &S, &E), -1);
	ck_assert_msg(ends_with(E.file, "fifo/main.gsim"), "%s", E.file);
	ck_assert_uint_eq(E.line, 0);
	ck_assert_msg(strstr(E.msg, "not a regular file"), "%s", E.msg);
	ck_assert_uint_eq(S.ncmds, 0);
}
END_TEST

START_TEST(test_main_dev_zero)
{
	long before = maxrss_kib();
	ck_assert_int_eq(scn_parse_file("/dev/zero", &S, &E), -1);
	ck_assert_msg(strstr(E.msg, "not a regular file"), "%s", E.msg);
	/* Reading up to the cap first would have touched 256 MiB. */
	ck_assert_int_lt(maxrss_kib() - before, 32 * 1024);
	/* A directory is refused as such. */
	ck_assert_int_eq(scn_parse_file(tmpdir, &S, &E), -1);
	ck_assert_msg(strstr(E.msg, "Is a directory") || strstr(E.msg, "directory"), "%s", E.msg);
}
END_TEST

START_TEST(test_main_too_large)
{
	const char *p = put("big/huge.gsim", "");
	int fd = open(p, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	/* Sparse: 257 MiB of size, no blocks. */
	ck_assert_int_eq(ftruncate(fd, (off_t)257 << 20), 0);
	close(fd);
	long before = maxrss_kib();
	ck_assert_int_eq(scn_parse_file(p, &S, &E), -1);
	ck_assert_msg(strstr(E.msg, "larger than 256 MiB"), "%s", E.msg);
	ck_assert_int_lt(maxrss_kib() - before, 32 * 1024);
	/* As an include too, at the include. */
	const char *m = put("big/main.gsim", "idle\ninclude huge.gsim\n");
	ck_assert_int_eq(scn_parse_file(m, &S, &E), -1);
	ck_assert_msg(ends_with(E.file, "big/main.gsim"), "%s", E.file);
	ck_assert_uint_eq(E.line, 2);
	ck_assert_uint_eq(E.col, 9);
	ck_assert_msg(strstr(E.msg, "larger than 256 MiB"), "%s", E.msg);
}
END_TEST

START_TEST(test_include_fifo)
{
	const char *m = put("ififo/main.gsim", "idle\n\n  include pipe.gsim\n");
	ck_assert_int_eq(mkfifo(tpath("ififo/pipe.gsim"), 0600), 0);
	ck_assert_int_eq(scn_parse_file(m, &S, &E), -1);
	ck_assert_msg(ends_with(E.file, "ififo/main.gsim"), "%s", E.file);
	ck_assert_uint_eq(E.line, 3);
	ck_assert_uint_eq(E.col, 11);
	ck_assert_msg(strstr(E.msg, "pipe.gsim") && strstr(E.msg, "not a regular file"), "%s", E.msg);
}
END_TEST

START_TEST(test_include_outside)
{
	char text[600];
	put("out/secret.gsim", "device d1\n");
	put("out/top/inside/part.gsim", "idle\n");
	/* Through ../ */
	const char *m = put("out/top/up.gsim", "idle\ninclude ../secret.gsim\n");
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_file(m, &S, &E), -1);
	ck_assert_msg(ends_with(E.file, "out/top/up.gsim"), "%s", E.file);
	ck_assert_uint_eq(E.line, 2);
	ck_assert_uint_eq(E.col, 9);
	ck_assert_msg(strstr(E.msg, "cannot include '../secret.gsim'") &&
			      strstr(E.msg, "outside the scenario's directory") &&
			      strstr(E.msg, "out/top'") && strstr(E.msg, "--allow-include-outside"),
		      "%s", E.msg);
	ck_assert_uint_eq(S.ncmds, 0);
	/* By an absolute path. */
	snprintf(text, sizeof text, "include %s\n", tpath("out/secret.gsim"));
	m = put("out/top/abs.gsim", text);
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_file(m, &S, &E), -1);
	ck_assert_uint_eq(E.line, 1);
	ck_assert_uint_eq(E.col, 9);
	ck_assert_msg(strstr(E.msg, "outside the scenario's directory"), "%s", E.msg);
	/* A nested include is held to the top-level file's directory, not its own. */
	put("out/top/inside/deeper.gsim", "include ../../secret.gsim\n");
	m = put("out/top/nested.gsim", "include inside/deeper.gsim\n");
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_file(m, &S, &E), -1);
	ck_assert_msg(ends_with(E.file, "inside/deeper.gsim"), "%s", E.file);
	ck_assert_msg(strstr(E.msg, "outside the scenario's directory"), "%s", E.msg);
	/* Going out and back in is fine: the resolved file is what counts. */
	m = put("out/top/round.gsim", "include ../top/inside/part.gsim\ninclude inside/../inside/part.gsim\n");
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_file(m, &S, &E), 0);
	ck_assert_uint_eq(S.ncmds, 2);
	/* A directory name that merely begins like the root's is outside. */
	put("out/topx/part.gsim", "idle\n");
	m = put("out/top/prefix.gsim", "include ../topx/part.gsim\n");
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_file(m, &S, &E), -1);
	ck_assert_msg(strstr(E.msg, "outside the scenario's directory"), "%s", E.msg);
}
END_TEST

START_TEST(test_include_outside_allowed)
{
	char text[600];
	const struct scn_parse_options allow = { .allow_include_outside = true };
	put("allow/secret.gsim", "device d1\n");
	snprintf(text, sizeof text, "include ../secret.gsim\ninclude %s\n", tpath("allow/secret.gsim"));
	const char *m = put("allow/top/main.gsim", text);
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_file_opts(m, &allow, &S, &E), 0);
	ck_assert_uint_eq(S.ncmds, 2);
	ck_assert_int_eq(S.cmds[0].kind, SCN_DEVICE);
	ck_assert_uint_eq(S.nfiles, 2);  /* both name the same file: read once */
	/* The default options are the safe ones. */
	const struct scn_parse_options none = { 0 };
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_file_opts(m, &none, &S, &E), -1);
	ck_assert_msg(strstr(E.msg, "outside the scenario's directory"), "%s", E.msg);
	/* Allowed, the type and size rules still hold. */
	ck_assert_int_eq(mkfifo(tpath("allow/fifo"), 0600), 0);
	m = put("allow/top/fifo.gsim", "include ../fifo\n");
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_file_opts(m, &allow, &S, &E), -1);
	ck_assert_msg(strstr(E.msg, "not a regular file"), "%s", E.msg);
}
END_TEST

START_TEST(test_include_symlink)
{
	put("sym/outside.gsim", "device d1\n");
	put("sym/top/real.gsim", "idle\n");
	ck_assert_int_eq(symlink("../outside.gsim", tpath("sym/top/link.gsim")), 0);
	ck_assert_int_eq(symlink("real.gsim", tpath("sym/top/alias.gsim")), 0);
	ck_assert_int_eq(symlink("..", tpath("sym/top/parent")), 0);
	const char *m = put("sym/top/main.gsim", "idle\ninclude link.gsim\n");
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_file(m, &S, &E), -1);
	ck_assert_uint_eq(E.line, 2);
	ck_assert_uint_eq(E.col, 9);
	ck_assert_msg(strstr(E.msg, "cannot include 'link.gsim'") && strstr(E.msg, "sym/outside.gsim'") &&
			      strstr(E.msg, "outside the scenario's directory"),
		      "%s", E.msg);
	/* Through a linked directory. */
	m = put("sym/top/dir.gsim", "include parent/outside.gsim\n");
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_file(m, &S, &E), -1);
	ck_assert_msg(strstr(E.msg, "outside the scenario's directory"), "%s", E.msg);
	/* A link that stays inside is fine. */
	m = put("sym/top/ok.gsim", "include alias.gsim\n");
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_file(m, &S, &E), 0);
	ck_assert_uint_eq(S.ncmds, 1);
}
END_TEST

START_TEST(test_include_outside_from_string)
{
	char name[600], text[600];
	put("sstr/secret.gsim", "device d1\n");
	put("sstr/top/part.gsim", "idle\n");
	/* The directory of the name given. */
	snprintf(name, sizeof name, "%s", tpath("sstr/top/virtual.gsim"));
	scn_script_free(&S);
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_string(name, "include part.gsim\n", 18, &S, &E), 0);
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_string(name, "include ../secret.gsim\n", 23, &S, &E), -1);
	ck_assert_msg(strstr(E.msg, "outside the scenario's directory"), "%s", E.msg);
	/* A name without a directory: the current directory (not tmpdir, where the
	 * tests do not run). */
	char cwd[512];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	ck_assert_ptr_null(strstr(cwd, tmpdir));
	snprintf(text, sizeof text, "include %s\n", tpath("sstr/top/part.gsim"));
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_string("t.gsim", text, strlen(text), &S, &E), -1);
	ck_assert_msg(strstr(E.msg, "outside the scenario's directory"), "%s", E.msg);
	const struct scn_parse_options allow = { .allow_include_outside = true };
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_string_opts("t.gsim", text, strlen(text), &allow, &S, &E), 0);
	ck_assert_uint_eq(S.ncmds, 1);
	/* A directory that does not exist cannot hold anything. */
	snprintf(text, sizeof text, "include %s\n", tpath("sstr/top/part.gsim"));
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_string("/nonexistent/x.gsim", text, strlen(text), &S, &E), -1);
	ck_assert_msg(strstr(E.msg, "cannot be resolved"), "%s", E.msg);
}
END_TEST

/* An included file that is not a scenario shows none of its text in the error;
 * once a file has begun with a command, words are quoted as usual. */
START_TEST(test_include_not_echoed)
{
	put("echo/passwd", "root:x:0:0:SECRETWORD:/root:/bin/sh\nmore SECRET2\n");
	put("echo/blob.bin", "ELF\x01\x02SECRETBIN\n");
	put("echo/scenario.gsim", "# a scenario\nidle\nallocc SCENARIOWORD size=4K\n");
	put("echo/commented.gsim", "# SECRETCOMMENT\n\n   SECRETLINE here\n");
	const char *m = put("echo/main.gsim", "idle\ninclude passwd\n");
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_file(m, &S, &E), -1);
	ck_assert_msg(ends_with(E.file, "echo/passwd"), "%s", E.file);
	ck_assert_uint_eq(E.line, 1);
	ck_assert_uint_eq(E.col, 1);
	ck_assert_msg(strstr(E.msg, "not shown"), "%s", E.msg);
	ck_assert_msg(!strstr(E.msg, "root") && !strstr(E.msg, "SECRET"), "%s", E.msg);
	m = put("echo/blob.gsim", "include blob.bin\n");
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_file(m, &S, &E), -1);
	ck_assert_msg(!strstr(E.msg, "SECRET") && !strstr(E.msg, "ELF"), "%s", E.msg);
	m = put("echo/comm.gsim", "include commented.gsim\n");
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_file(m, &S, &E), -1);
	ck_assert_uint_eq(E.line, 3);
	ck_assert_uint_eq(E.col, 4);
	ck_assert_msg(!strstr(E.msg, "SECRET"), "%s", E.msg);
	/* A file that began as a scenario: its mistakes are shown. */
	m = put("echo/scen.gsim", "include scenario.gsim\n");
	scn_script_free(&S); /* the previous parse's script */
	ck_assert_int_eq(scn_parse_file(m, &S, &E), -1);
	ck_assert_uint_eq(E.line, 3);
	ck_assert_msg(strstr(E.msg, "unknown command 'allocc'"), "%s", E.msg);
	/* The top-level file is the user's own: its unknown word is quoted, cut. */
	ck_assert_int_eq(parse("abcdefghijklmnopqrstuvwxyz0123456789 x"), -1);
	ck_assert_msg(strstr(E.msg, "unknown command 'abcdefghijklmnopqrstuvwx...'"), "%s", E.msg);
	ck_assert_int_eq(parse("a\x01\x7f"), -1);
	ck_assert_msg(strstr(E.msg, "unknown command 'a\\x01\\x7f'"), "%s", E.msg);
}
END_TEST

/* `-` reads standard input; so does a name for it (/dev/stdin) when it is a pipe,
 * which no other FIFO may be. */
static int parse_from_pipe(const char *name, const char *text)
{
	int fds[2], saved = dup(STDIN_FILENO);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(write(fds[1], text, strlen(text)), (ssize_t)strlen(text));
	close(fds[1]);
	ck_assert_int_ge(dup2(fds[0], STDIN_FILENO), 0);
	close(fds[0]);
	scn_script_free(&S); /* the previous parse's script */
	int rc = scn_parse_file(name, &S, &E);
	ck_assert_int_ge(dup2(saved, STDIN_FILENO), 0);
	close(saved);
	return rc;
}

START_TEST(test_main_stdin)
{
	ck_assert_msg(parse_from_pipe("-", "idle\necho hi\n") == 0, "%s", E.msg);
	ck_assert_uint_eq(S.ncmds, 2);
	ck_assert_str_eq(S.cmds[1].loc.file, SCN_STDIN_NAME);
	ck_assert_msg(parse_from_pipe("/dev/stdin", "idle\n") == 0, "%s", E.msg);
	ck_assert_uint_eq(S.ncmds, 1);
	ck_assert_int_eq(parse_from_pipe("-", "idle\nbogus\n"), -1);
	ck_assert_str_eq(E.file, SCN_STDIN_NAME);
	ck_assert_uint_eq(E.line, 2);
	/* Includes from standard input stay under the current directory. */
	char text[600];
	snprintf(text, sizeof text, "include %s\n", put("stdin/part.gsim", "idle\n"));
	ck_assert_int_eq(parse_from_pipe("-", text), -1);
	ck_assert_msg(strstr(E.msg, "outside the scenario's directory"), "%s", E.msg);
}
END_TEST

/* ---- syntax errors: one line each, exact location and message -------------------- */

static const struct bad {
	const char *text;
	uint32_t line, col;
	const char *w1, *w2;
} parse_errors[] = {
	{ "allo a size=4K", 1, 1, "unknown command 'allo'", "expected one of: adapter, device, alloc" },
	{ "{", 1, 1, "unknown command '{'", NULL },
	{ "alloc a sz=4K", 1, 9, "unknown key 'sz' for alloc",
	  "(expected one of: device, size, prefer, only, align, priority, cpu, pinned, resource, "
	  "shared)" },
	{ "submit device=d a=1", 1, 17, "unknown key 'a' for submit", "expected one of: device" },
	{ "alloc a size=4K size=8K", 1, 17, "duplicate key 'size'", "column 9" },
	{ "alloc a cpu size=4K cpu", 1, 21, "duplicate key 'cpu'", NULL },
	{ "alloc a", 1, 8, "expected size=SIZE for alloc", "found end of line" },
	{ "alloc a cpu prefer=gart  ", 1, 24, "expected size=SIZE", NULL },
	{ "write a size=4", 1, 15, "expected seed=N for write", "found end of line" },
	{ "verify a offset=1", 1, 18, "expected seed=N for verify", NULL },
	{ "gpu-fill a stale", 1, 17, "expected value=N for gpu-fill", NULL },
	{ "alloc a size=4Q", 1, 9, "expected a size for size=", "found '4Q'" },
	{ "alloc a size=", 1, 9, "expected a size for size=", "found nothing" },
	{ "alloc a size=99999999999T", 1, 9, "size '99999999999T' overflows 64 bits", NULL },
	{ "alloc a size=18446744073709551616", 1, 9, "overflows 64 bits", NULL },
	{ "alloc a size=4K align=0x", 1, 17, "expected a size for align=", "found '0x'" },
	{ "write a seed=0x1ffffffffffffffff", 1, 9, "number '0x1ffffffffffffffff' overflows 64 bits",
	  NULL },
	{ "write a seed=-1", 1, 9, "expected a number for seed=", "found '-1'" },
	{ "alloc 1a size=4K", 1, 7, "expected an allocation name", "found '1a'" },
	{ "alloc size=4K", 1, 7, "expected an allocation name", "found 'size=4K'" },
	{ "device", 1, 7, "expected a device name after device", "found end of line" },
	{ "device d$", 1, 8, "expected a device name", "found 'd$'" },
	{ "alloc a size=4K device=9", 1, 17, "expected a device name", "found '9'" },
	{ "alloc a size=4K resource=R!", 1, 17, "expected a resource name", "found 'R!'" },
	{ "free a b/c", 1, 8, "expected an allocation name", "found 'b/c'" },
	{ "evict a=1", 1, 7, "expected an allocation name", "found 'a=1'" },
	{ "alloc buf$i size=4K", 1, 7, "found 'buf$i'", "$i is only defined inside repeat" },
	{ "alloc a size=4K prefer=sys", 1, 17, "unknown segment 'sys' in prefer=",
	  "expected one of: visible, invisible, vram, gart" },
	{ "alloc a size=4K only=banana", 1, 17, "unknown segment 'banana' in only=", NULL },
	{ "alloc a size=4K prefer=visible,,gart", 1, 17, "expected a segment in prefer=",
	  "found nothing" },
	{ "alloc a size=4K prefer=vram,gart,visible", 1, 17, "expected at most 3 segments in prefer=",
	  "found 4" },
	{ "alloc a size=4K only=vram prefer=gart", 1, 27, "expected preferred segments within only=vram",
	  "found 'gart'" },
	{ "alloc a size=4K shared", 1, 17, "expected resource=R with shared", NULL },
	{ "alloc a size=4K cpu=yes", 1, 17, "expected 'cpu' (a flag takes no value)", "found 'cpu=yes'" },
	{ "alloc a size=4K size", 1, 17, "expected size=SIZE", "found 'size'" },
	{ "alloc a size=4K bogus", 1, 17, "unexpected word 'bogus' for alloc", "expected one of: device" },
	{ "alloc a size=4K priority=urgent", 1, 17, "expected a priority", "found 'urgent'" },
	{ "alloc a size=4K priority=0x100000000", 1, 17, "expected a priority", "found '0x100000000'" },
	{ "priority a 0", 1, 12,
	  "expected a priority (minimum, low, normal, high, maximum or 1..0xFFFFFFFF)", "found '0'" },
	{ "priority a", 1, 11, "expected a priority", "found end of line" },
	{ "priority a high low", 1, 17, "expected end of line", "found 'low'" },
	{ "expect stat evictionz == 1", 1, 13, "unknown stat 'evictionz'", "expected one of: evictions" },
	{ "expect stat evictions <> 1", 1, 23, "unknown operator '<>'", "expected one of: ==, !=" },
	{ "expect stat evictions ==", 1, 25, "expected a number", "found end of line" },
	{ "expect stat faults == 1 2", 1, 25, "expected end of line", "found '2'" },
	{ "expect status STATUS_NOPE idle", 1, 15, "unknown status 'STATUS_NOPE'", "STATUS_SUCCESS" },
	{ "expect status STATUS_SUCCESS", 1, 29, "expected a command", "found end of line" },
	{ "expect status STATUS_SUCCESS echo hi", 1, 30, "expected a command that calls the driver",
	  "found 'echo'" },
	{ "expect status STATUS_SUCCESS expect status STATUS_SUCCESS idle", 1, 30, "found 'expect'",
	  NULL },
	{ "expect status STATUS_SUCCESS repeat 2 {", 1, 30, "found 'repeat'", NULL },
	{ "expect status STATUS_SUCCESS alloc a sz=1", 1, 38, "unknown key 'sz' for alloc", NULL },
	{ "expect", 1, 7, "expected an allocation name, 'stat', 'status', 'fence', 'va' or 'fault'", "found end of line" },
	{ "expect a on vram", 1, 10, "expected 'in'", "found 'on'" },
	{ "expect a in space", 1, 13, "unknown segment 'space'", "sys, resident" },
	{ "expect a in", 1, 12, "expected a segment", "found end of line" },
	{ "inject meteor", 1, 8, "unknown inject kind 'meteor'",
	  "expected one of: device-removed, dma-error, sysmem-oom" },
	{ "inject dma-error after=3", 1, 18, "expected end of line", "found 'after=3'" },
	{ "inject sysmem-oom later=3", 1, 19, "unknown key 'later' for inject sysmem-oom", NULL },
	{ "gpu-fill a value=0x100000000", 1, 12, "expected a 32-bit value", "found '0x100000000'" },
	{ "gpu-copy a", 1, 11, "expected an allocation name", "found end of line" },
	{ "gpu-copy a b c", 1, 14, "expected end of line", "found 'c'" },
	{ "unlock a b", 1, 10, "expected end of line", "found 'b'" },
	{ "lock a wait", 1, 8, "unexpected word 'wait' for lock", "expected one of: nowait" },
	{ "idle now", 1, 6, "expected end of line", "found 'now'" },
	{ "show all", 1, 6, "expected end of line", NULL },
	{ "free", 1, 5, "expected an allocation name after free", "found end of line" },
	{ "snapshot", 1, 9, "expected a file name", "found end of line" },
	{ "adapter policy=fifo", 1, 9, "unknown policy 'fifo'", "expected one of: arc, priority-lru, lru" },
	{ "adapter vram=64M visible=128M", 1, 1, "invalid adapter", "visible must not exceed vram" },
	{ "adapter vram=1000", 1, 1, "invalid adapter", "vram must be" },
	{ "adapter tlb=8", 1, 9, "unknown key 'tlb' for adapter", NULL },
	{ "adapter seed=x", 1, 9, "expected a number for seed=", "found 'x'" },
	{ "repeat 3 {\nidle\n", 1, 1, "expected '}' to close this repeat", "found end of file" },
	{ "repeat 2 {\n  repeat 3 {\n  }\n", 1, 1, "expected '}'", NULL },
	{ "idle\n  }\n", 2, 3, "expected a command", "found '}'" },
	{ "repeat 1 {\n}\n}", 3, 1, "found '}'", NULL },
	{ "repeat x {\n}", 1, 8, "expected a number for the repeat count", "found 'x'" },
	{ "repeat {\n}", 1, 8, "expected a repeat count", "found '{'" },
	{ "repeat\n", 1, 7, "expected a repeat count", "found end of line" },
	{ "repeat 3\nidle\n}", 1, 9, "expected '{' after the repeat count", "found end of line" },
	{ "repeat 3 4 {\n}", 1, 10, "expected '{' after the repeat count", "found '4'" },
	{ "repeat 2 { idle\n}", 1, 12, "expected end of line after '{'", "found 'idle'" },
	{ "repeat 2 {\n}  idle", 2, 4, "expected end of line after '}'", "found 'idle'" },
	{ "repeat 2 {\n  alloc b$i size=4K bad=1\n}", 2, 21, "unknown key 'bad'", NULL },
	{ "include", 1, 8, "expected a file name", "found end of line" },
	{ "include a b", 1, 11, "expected end of line", "found 'b'" },
	{ "include nothere.gsim", 1, 9, "cannot open 'nothere.gsim'", NULL },
	{ "\n\n  alloc a size=4K sz=1", 3, 19, "unknown key 'sz'", NULL },
	{ "alloc a\x01 size=4K", 1, 7, "found 'a\\x01'", NULL },
	/* WDDM 2 */
	{ "pagingqueue", 1, 12, "expected a paging queue name after pagingqueue", "found end of line" },
	{ "pagingqueue q prio=1", 1, 15, "unknown key 'prio' for pagingqueue", NULL },
	{ "wait-paging q x", 1, 15, "expected end of line", "found 'x'" },
	{ "resident a queue=", 1, 12, "expected a paging queue name", "found nothing" },
	{ "resident a queue=q queue=r", 1, 20, "duplicate key 'queue'", NULL },
	{ "vcontext 9c", 1, 10, "expected a context name", "found '9c'" },
	{ "reserve r", 1, 10, "expected size=SIZE for reserve", "found end of line" },
	{ "reserve r size=1M base=0x10000 max=0x20000", 1, 32, "expected base= or min=/max=", "found both" },
	{ "reserve r size=1Q", 1, 11, "expected a size for size=", "found '1Q'" },
	{ "map v", 1, 6, "expected an allocation name after map V", "found end of line" },
	{ "map v a at=", 1, 9, "expected an address or a VA name for at=", "found nothing" },
	{ "map v a at=r+", 1, 14, "expected a number for the offset after +", "found nothing" },
	{ "map v a at=r+0x1g", 1, 14, "expected a number for the offset after +", "found '0x1g'" },
	{ "map v a at=r!x", 1, 9, "expected an address or a VA name for at=", "found 'r!x'" },
	{ "map v a readonly=1", 1, 9, "expected 'readonly' (a flag takes no value)", NULL },
	{ "map v a pages", 1, 9, "expected pages=N", "found 'pages'" },
	{ "unmap", 1, 6, "expected a VA name after unmap", "found end of line" },
	{ "free-va r s", 1, 11, "expected end of line", "found 's'" },
	{ "fence f initial=x", 1, 9, "expected a number for initial=", "found 'x'" },
	{ "signal f", 1, 9, "expected value=N for signal", "found end of line" },
	{ "wait f value=1 value=2", 1, 16, "duplicate key 'value'", NULL },
	{ "gpu-signal c", 1, 13, "expected a fence name after gpu-signal", "found end of line" },
	{ "gpu-wait c f", 1, 13, "expected value=N for gpu-wait", "found end of line" },
	{ "cmdbuf b size=0", 1, 10, "expected a size of 4 bytes to 64K", "found 'size=0'" },
	{ "cmdbuf b size=128K", 1, 10, "expected a size of 4 bytes to 64K", NULL },
	{ "cmd b", 1, 6, "expected fill, copy, write, signal, wait, reset or raw after cmd b", "found end of line" },
	{ "cmd b raw", 1, 10, "expected at least one dword after cmd b raw", "found end of line" },
	{ "cmd b raw 0x100000000", 1, 11, "expected a 32-bit dword for cmd raw", "found '0x100000000'" },
	{ "cmd b raw 1 x", 1, 13, "expected a number for a dword of cmd raw", "found 'x'" },
	{ "cmd b raw 1 value=2", 1, 13, "expected a dword after cmd raw", "found 'value=2'" },
	{ "cmd b jump v", 1, 7, "unknown packet 'jump'", NULL },
	{ "cmd b fill", 1, 11, "expected an address or a VA name after cmd fill", "found end of line" },
	{ "cmd b fill size=4 value=1", 1, 12, "expected an address or a VA name after cmd fill", "found 'size=4'" },
	{ "cmd b fill v value=1", 1, 21, "expected size=N for cmd fill", "found end of line" },
	{ "cmd b fill v size=4", 1, 20, "expected value=N for cmd fill", "found end of line" },
	{ "cmd b fill v size=6 value=1", 1, 14, "expected a multiple of 4 for size= of cmd fill", NULL },
	{ "cmd b fill v size=4 value=0x100000000", 1, 21, "expected a 32-bit value for value=", NULL },
	{ "cmd b copy v", 1, 13, "expected an address or a VA name after cmd copy SRC", "found end of line" },
	{ "cmd b copy v w", 1, 15, "expected size=N for cmd copy", "found end of line" },
	{ "cmd b write v", 1, 14, "expected value=N for cmd write", "found end of line" },
	{ "cmd b signal", 1, 13, "expected a fence name after cmd signal", "found end of line" },
	{ "cmd b wait f", 1, 13, "expected value=N for cmd wait", "found end of line" },
	{ "cmd b reset now", 1, 13, "expected end of line", "found 'now'" },
	{ "submit-command c", 1, 17, "expected a command buffer name after submit-command C", "found end of line" },
	{ "expect fence f", 1, 15, "expected an operator", "found end of line" },
	{ "expect fence f ~ 1", 1, 16, "unknown operator '~'", NULL },
	{ "expect fence f == x", 1, 19, "expected a number for the fence value", "found 'x'" },
	{ "expect va", 1, 10, "expected an address or a VA name after expect va", "found end of line" },
	{ "expect va v", 1, 12, "expected 'mapped' or 'unmapped'", "found end of line" },
	{ "expect va v mapped", 1, 19, "expected an allocation name after mapped", "found end of line" },
	{ "expect va v unmapped a", 1, 22, "expected end of line", "found 'a'" },
	{ "expect fault", 1, 13, "expected va=V[+OFF] or cause=NAME for expect fault", "found end of line" },
	{ "expect fault cause=nope", 1, 14, "unknown fault cause 'nope'", "pkt-overrun, pkt-too-long, pkt-wrap, pkt-opcode" },
	{ "expect fault alloc=a", 1, 14, "alloc= of expect fault needs va=V[+OFF]", NULL },
	{ "adapter ring_faults=maybe", 1, 9, "expected skip or stop for ring_faults=", "found 'maybe'" },
	{ "expect fault va=v alloc=", 1, 19, "expected an allocation name", "found nothing" },
	{ "expect fault at=v", 1, 14, "unknown key 'at' for expect fault", NULL },
};

START_TEST(test_parse_error)
{
	const struct bad *b = &parse_errors[_i];
	parse_fails(b->text, b->line, b->col, b->w1, b->w2);
}
END_TEST

/* ---- static check ------------------------------------------------------------- */

static const struct bad check_errors[] = {
	{ "free a", 1, 1, "unknown allocation 'a'", NULL },
	{ "alloc a size=4K\nfree a\nwrite a seed=1", 3, 1, "allocation 'a' was freed at t.gsim:2", NULL },
	{ "alloc a size=4K\n  alloc a size=8K", 2, 3, "allocation 'a' already exists",
	  "(defined at t.gsim:1)" },
	{ "alloc a size=4K\nfree a a", 2, 1, "allocation 'a' was freed at t.gsim:2", NULL },
	{ "alloc a size=4K\ngpu-copy a b", 2, 1, "unknown allocation 'b'", NULL },
	{ "alloc b size=4K\ngpu-copy a b", 2, 1, "unknown allocation 'a'", NULL },
	{ "expect x in vram", 1, 1, "unknown allocation 'x'", NULL },
	{ "resident q", 1, 1, "unknown allocation 'q'", NULL },
	{ "alloc q size=4K\nfree q\nsubmit q", 3, 1, "was freed at t.gsim:2", NULL },
	{ "priority q high", 1, 1, "unknown allocation 'q'", NULL },
	{ "lock q", 1, 1, "unknown allocation 'q'", NULL },
	{ "gpu-fill q value=1", 1, 1, "unknown allocation 'q'", NULL },
	{ "alloc a size=4K device=gpu1", 1, 1, "unknown device 'gpu1'", NULL },
	{ "submit device=zz", 1, 1, "unknown device 'zz'", NULL },
	{ "device d\ndevice d", 2, 1, "device 'd' already exists (defined at t.gsim:1)", NULL },
	{ "alloc a size=4K\ndevice default", 2, 1, "device 'default' already exists",
	  "created implicitly at t.gsim:1" },
	{ "adapter\nadapter", 2, 1, "expected at most one adapter", "t.gsim:1" },
	{ "idle\nadapter", 2, 1, "expected adapter before any other command", "after idle at t.gsim:1" },
	{ "echo hello\nadapter", 2, 1, "expected adapter before any other command", NULL },
	{ "expect status STATUS_NO_VIDEO_MEMORY alloc a size=1T\nfree a", 2, 1,
	  "unknown allocation 'a'", NULL },
	{ "alloc a size=4K\nexpect status STATUS_INVALID_PARAMETER free a\nfree a\nfree a", 4, 1,
	  "was freed at t.gsim:3", NULL },
	{ "expect status STATUS_SUCCESS free x", 1, 30, "unknown allocation 'x'", NULL },
	{ "alloc a size=4K\nexpect status STATUS_NO_VIDEO_MEMORY alloc a size=1T", 2, 38,
	  "allocation 'a' already exists", NULL },
	{ "expect status STATUS_SUCCESS free a\nalloc a size=4K", 1, 30, "unknown allocation 'a'", NULL },
	/* WDDM 2 */
	{ "wait-paging q", 1, 1, "unknown paging queue 'q' (expected a name defined by pagingqueue)", NULL },
	{ "alloc a size=4K\nresident a queue=q", 2, 1, "unknown paging queue 'q'", NULL },
	{ "pagingqueue q device=d", 1, 1, "unknown device 'd'", NULL },
	{ "pagingqueue q\npagingqueue q", 2, 1, "paging queue 'q' already exists (defined at t.gsim:1)", NULL },
	{ "vcontext c\nvcontext c", 2, 1, "context 'c' already exists", NULL },
	{ "fence f\nfence f", 2, 1, "fence 'f' already exists", NULL },
	{ "cmdbuf b\ncmdbuf b", 2, 1, "command buffer 'b' already exists", NULL },
	{ "reserve r size=4K\nreserve r size=4K", 2, 1, "VA 'r' already exists", NULL },
	{ "alloc a size=4K\nreserve r size=4K\nmap r a", 3, 1, "VA 'r' already exists", NULL },
	{ "map v a", 1, 1, "unknown allocation 'a'", NULL },
	{ "alloc a size=4K\nmap v a at=r", 2, 1, "unknown VA 'r' (expected a name defined by reserve or map)", NULL },
	{ "alloc a size=4K\nmap v a queue=q", 2, 1, "unknown paging queue 'q'", NULL },
	{ "unmap v", 1, 1, "unknown VA 'v'", NULL },
	{ "reserve r size=4K\nfree-va r\nfree-va r", 3, 1, "VA 'r' was freed at t.gsim:2", NULL },
	{ "alloc a size=4K\nreserve r size=1M\nmap v a at=r+4K\nfree-va r\nexpect va v unmapped", 5, 1,
	  "VA 'v' was freed with its reservation 'r' at t.gsim:4", NULL },
	{ "alloc a size=4K\nreserve r size=1M\nmap v a at=r\nmap w a at=v+4K\nfree-va r\nunmap w", 6, 1,
	  "VA 'w' was freed with its reservation 'r'", NULL },
	{ "signal f value=1", 1, 1, "unknown fence 'f'", NULL },
	{ "fence f\ngpu-signal c f value=1", 2, 1, "unknown context 'c' (expected a name defined by vcontext)", NULL },
	{ "vcontext c\ngpu-wait c f value=1", 2, 1, "unknown fence 'f'", NULL },
	{ "cmd b reset", 1, 1, "unknown command buffer 'b' (expected a name defined by cmdbuf)", NULL },
	{ "cmdbuf b\ncmd b fill v size=4 value=1", 2, 1, "unknown VA 'v'", NULL },
	{ "cmdbuf b\nreserve v size=4K\ncmd b copy v w size=4", 3, 1, "unknown VA 'w'", NULL },
	{ "cmdbuf b\ncmd b signal f value=1", 2, 1, "unknown fence 'f'", NULL },
	{ "cmdbuf b\nsubmit-command c b", 2, 1, "unknown context 'c'", NULL },
	{ "vcontext c\nsubmit-command c b", 2, 1, "unknown command buffer 'b'", NULL },
	{ "expect fence f == 1", 1, 1, "unknown fence 'f'", NULL },
	{ "reserve v size=4K\nexpect va v mapped a", 2, 1, "unknown allocation 'a'", NULL },
	{ "expect fault va=v", 1, 1, "unknown VA 'v'", NULL },
	{ "expect fault va=0x10000 alloc=a", 1, 1, "unknown allocation 'a'", NULL },
	{ "expect status STATUS_INVALID_PARAMETER fence f\nsignal f value=1", 2, 1, "unknown fence 'f'", NULL },
};

START_TEST(test_check_error)
{
	const struct bad *b = &check_errors[_i];
	check_fails(b->text, b->line, b->col, b->w1, b->w2);
}
END_TEST

START_TEST(test_check_ok)
{
	/* A name may be reused once freed. */
	CHECK_OK("alloc a size=4K\nfree a\nalloc a size=8K\nfree a");
	/* The default device may be made explicitly before its first use. */
	CHECK_OK("device default\nalloc a size=4K\nsubmit a");
	/* Adding to a shared resource is a run-time error a scenario may want to test. */
	CHECK_OK("alloc a size=4K resource=R shared\nalloc b size=4K resource=R");
	/* A call expected to succeed defines and frees as the bare command would. */
	CHECK_OK("expect status STATUS_SUCCESS alloc a size=4K\nwrite a seed=1\n"
		 "expect status STATUS_PENDING free a\nalloc a size=4K");
	/* Every name of every command, on two devices. */
	CHECK_OK("adapter\ndevice d1\nalloc a size=4K\nalloc b device=d1 size=4K\nwrite a seed=1\n"
		 "verify a seed=1\nlock a\nunlock a\nsubmit a\nsubmit device=d1 b\ngpu-fill a value=1\n"
		 "gpu-copy a b\nresident a b\nevict a b\npriority a low\nexpect a in vram\n"
		 "expect stat evictions == 0\nexpect status STATUS_INVALID_PARAMETER submit device=d1 a\n"
		 "idle\nshow\necho done\nfree a b");
	/* Allocate and free in a loop. */
	CHECK_OK("repeat 100 {\n  alloc t$i size=4K\n  repeat 2 {\n    write t0 seed=$i\n  }\n}\n"
		 "repeat 100 {\n  free t$i\n}");
	ck_assert_uint_eq(S.ncmds, 400);
}
END_TEST

START_TEST(test_check_null)
{
	ck_assert_int_eq(scn_check(NULL, &E), -1);
	ck_assert_int_ne(E.msg[0], '\0');
	ck_assert_int_eq(scn_parse_string("t.gsim", "idle", 4, NULL, &E), -1);
}
END_TEST

START_TEST(test_wddm2_commands)
{
	CHECK_OK("device d\npagingqueue q device=d\nvcontext c device=d\nalloc a device=d size=64K\n"
		 "reserve r size=1M base=0x100000 device=d\nreserve s size=64K min=0x1000000 max=0x2000000\n"
		 "map v a at=r+0x10000 offset=2 pages=3 readonly queue=q\nmap w a\nresident a queue=q\n"
		 "wait-paging q\nfence f device=d initial=0x100000000\nsignal f value=0x100000001\n"
		 "wait f value=2\ngpu-signal c f value=3\ngpu-wait c f value=4\ncmdbuf b device=d size=256\n"
		 "cmd b fill v+4 size=8 value=0xffffffff\ncmd b copy v 0x200000 size=16\ncmd b write w value=7\n"
		 "cmd b signal f value=5\ncmd b wait f value=6\ncmd b reset\nsubmit-command c b\n"
		 "expect fence f >= 0x100000001\nexpect va v+0x10 mapped a\nexpect va 0x300000 unmapped\n"
		 "expect fault va=w+0x1000 alloc=a\nexpect fault va=0x10000\nunmap v\nfree-va r\nfree-va w\n");
	ck_assert_uint_eq(S.ncmds, 31);
	const struct scn_cmd *c = S.cmds;
	ck_assert_int_eq(c[1].kind, SCN_PAGINGQUEUE);
	ck_assert_str_eq(c[1].device, "d");
	ck_assert_int_eq(c[4].kind, SCN_RESERVE);
	ck_assert_uint_eq(c[4].size, 1u << 20);
	ck_assert_uint_eq(c[4].base, 0x100000);
	ck_assert_uint_eq(c[5].min, 0x1000000);
	ck_assert_uint_eq(c[5].max, 0x2000000);
	ck_assert_int_eq(c[6].kind, SCN_MAP);
	ck_assert_str_eq(c[6].name, "v");
	ck_assert_str_eq(c[6].name2, "a");
	ck_assert_str_eq(c[6].va.name, "r");
	ck_assert_uint_eq(c[6].va.addr, 0x10000);
	ck_assert_uint_eq(c[6].offset, 2);
	ck_assert(c[6].pages_given && c[6].pages == 3 && c[6].readonly);
	ck_assert_str_eq(c[6].queue, "q");
	ck_assert(!c[7].va_given && !c[7].pages_given && !c[7].readonly);
	ck_assert_str_eq(c[8].queue, "q");
	ck_assert_uint_eq(c[10].fence_value, 0x100000000ull);
	ck_assert_uint_eq(c[11].fence_value, 0x100000001ull);
	ck_assert_str_eq(c[13].name, "c");
	ck_assert_str_eq(c[13].name2, "f");
	ck_assert_uint_eq(c[15].size, 256);
	ck_assert_int_eq(c[16].op, SCN_OP_FILL);
	ck_assert_str_eq(c[16].va.name, "v");
	ck_assert_uint_eq(c[16].va.addr, 4);
	ck_assert_uint_eq(c[16].length, 8);
	ck_assert_uint_eq(c[16].value, 0xffffffffu);
	ck_assert_int_eq(c[17].op, SCN_OP_COPY);
	ck_assert_ptr_null(c[17].va2.name);
	ck_assert_uint_eq(c[17].va2.addr, 0x200000);
	ck_assert_int_eq(c[19].op, SCN_OP_SIGNAL);
	ck_assert_str_eq(c[19].name2, "f");
	ck_assert_uint_eq(c[19].fence_value, 5);
	ck_assert_int_eq(c[21].op, SCN_OP_RESET);
	ck_assert_int_eq(c[22].kind, SCN_SUBMIT_COMMAND);
	ck_assert_int_eq(c[23].kind, SCN_EXPECT_FENCE);
	ck_assert_int_eq(c[23].cmp, SCN_GE);
	ck_assert_uint_eq(c[23].stat_value, 0x100000001ull);
	ck_assert_int_eq(c[24].kind, SCN_EXPECT_VA);
	ck_assert(c[24].mapped);
	ck_assert_int_eq(c[25].kind, SCN_EXPECT_VA);
	ck_assert(!c[25].mapped);
	ck_assert_uint_eq(c[25].va.addr, 0x300000);
	ck_assert_int_eq(c[26].kind, SCN_EXPECT_FAULT);
	ck_assert_str_eq(c[26].va.name, "w");
	ck_assert_str_eq(c[26].name2, "a");
	ck_assert_ptr_null(c[27].name2);
	/* Raw dwords, fault causes, the render ring's fault mode. */
	CHECK_OK("adapter ring_faults=stop\nvcontext c\ncmdbuf b\ncmd b raw 0x07d00000 7 0xffffffff\n"
		 "alloc a size=4K\nmap w a\nexpect fault cause=pkt-opcode\nexpect fault va=w cause=vm-not-present alloc=a\n");
	ck_assert_uint_eq(S.cmds[0].config.ring_faults, GPUSIM_RING_FAULTS_STOP);
	ck_assert_int_eq(S.cmds[3].op, SCN_OP_RAW);
	ck_assert_uint_eq(S.cmds[3].nraw, 3);
	ck_assert_uint_eq(S.cmds[3].raw[0], 0x07d00000u);
	ck_assert_uint_eq(S.cmds[3].raw[2], 0xffffffffu);
	ck_assert_uint_eq(S.cmds[6].fault_cause, HW_FAULT_PKT_OPCODE);
	ck_assert(!S.cmds[6].va_given);
	ck_assert_uint_eq(S.cmds[7].fault_cause, HW_FAULT_VM_NOT_PRESENT);
	ck_assert_str_eq(S.cmds[7].va.name, "w");
	/* An allocation named like the new expectations still works the old way. */
	CHECK_OK("alloc fence size=4K\nalloc va size=4K\nalloc fault size=4K\nexpect fence in vram\n"
		 "expect va in vram\nexpect fault in vram");
	ck_assert_int_eq(S.cmds[3].kind, SCN_EXPECT_IN);
	/* Each kind has its own names; a VA name is free again after free-va. */
	CHECK_OK("fence x\nvcontext x\npagingqueue x\ncmdbuf x\nreserve x size=4K\nalloc x size=4K\n"
		 "free-va x\nreserve x size=8K\nmap y x at=x\nfree-va x\nreserve x size=8K\nmap y x at=x");
	/* An expected failure defines nothing: the name may be used again. */
	CHECK_OK("expect status STATUS_INVALID_PARAMETER reserve r size=4K base=1\nreserve r size=4K");
}
END_TEST

Suite *sim_parse_suite(void)
{
	Suite *s = suite_create("sim_parse");
	TCase *tc;

	tc = tcase_create("commands");
	tcase_add_checked_fixture(tc, NULL, script_teardown);
	tcase_add_test(tc, test_adapter_keys);
	tcase_add_test(tc, test_adapter_defaults);
	tcase_add_test(tc, test_device);
	tcase_add_test(tc, test_alloc_every_key);
	tcase_add_test(tc, test_alloc_defaults);
	tcase_add_test(tc, test_alloc_vram_segments);
	tcase_add_test(tc, test_priority_levels);
	tcase_add_test(tc, test_name_lists);
	tcase_add_test(tc, test_write_verify);
	tcase_add_test(tc, test_lock_unlock);
	tcase_add_test(tc, test_submit);
	tcase_add_test(tc, test_gpu_work);
	tcase_add_test(tc, test_inject_idle_show_snapshot);
	tcase_add_test(tc, test_echo_verbatim);
	tcase_add_test(tc, test_expect_in);
	tcase_add_test(tc, test_expect_stat);
	tcase_add_test(tc, test_expect_status);
	tcase_add_test(tc, test_status_names);
	tcase_add_test(tc, test_wddm2_commands);
	suite_add_tcase(s, tc);

	tc = tcase_create("lines");
	tcase_add_checked_fixture(tc, NULL, script_teardown);
	tcase_add_test(tc, test_locations_comments_blank_lines);
	tcase_add_test(tc, test_crlf);
	tcase_add_test(tc, test_tabs);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_line_cap);
	tcase_add_test(tc, test_parse_file_missing);
	suite_add_tcase(s, tc);

	tc = tcase_create("repeat");
	tcase_add_checked_fixture(tc, NULL, script_teardown);
	tcase_add_test(tc, test_repeat_names);
	tcase_add_test(tc, test_repeat_nested);
	tcase_add_test(tc, test_repeat_zero_and_empty);
	tcase_add_test(tc, test_repeat_columns_after_substitution);
	tcase_add_test(tc, test_command_cap);
	tcase_add_test(tc, test_repeat_depth_cap);
	suite_add_tcase(s, tc);

	tc = tcase_create("include");
	/* Unchecked: the directory goes away even when a test fails. */
	tcase_add_unchecked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_checked_fixture(tc, NULL, script_teardown);
	tcase_add_test(tc, test_include);
	tcase_add_test(tc, test_include_from_string);
	tcase_add_test(tc, test_include_in_repeat);
	tcase_add_test(tc, test_include_cycle);
	tcase_add_test(tc, test_include_missing);
	tcase_add_test(tc, test_include_depth);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_unchecked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_checked_fixture(tc, NULL, script_teardown);
	tcase_add_test(tc, test_main_fifo);
	tcase_add_test(tc, test_main_dev_zero);
	tcase_add_test(tc, test_main_too_large);
	tcase_add_test(tc, test_include_fifo);
	tcase_add_test(tc, test_include_outside);
	tcase_add_test(tc, test_include_outside_allowed);
	tcase_add_test(tc, test_include_symlink);
	tcase_add_test(tc, test_include_outside_from_string);
	tcase_add_test(tc, test_include_not_echoed);
	tcase_add_test(tc, test_main_stdin);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, NULL, script_teardown);
	tcase_add_loop_test(tc, test_parse_error, 0, (int)(sizeof parse_errors / sizeof parse_errors[0]));
	tcase_add_loop_test(tc, test_check_error, 0, (int)(sizeof check_errors / sizeof check_errors[0]));
	tcase_add_test(tc, test_check_ok);
	tcase_add_test(tc, test_check_null);
	suite_add_tcase(s, tc);
	return s;
}
