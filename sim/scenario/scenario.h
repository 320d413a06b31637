/*
 * Scenarios: the parsed form of the scenario language (sim/scenario/LANGUAGE.md),
 * the parser that builds it and the runner that drives libkmt with it. The parser
 * flattens include and repeat, so the runner sees a plain list of commands, each
 * with the file, line and column it came from.
 */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <gpusim/gpusim.h>
#include <gpusim/trace.h>

enum scn_kind {
	SCN_ADAPTER = 1,
	SCN_DEVICE,
	SCN_ALLOC,
	SCN_FREE,
	SCN_WRITE,
	SCN_VERIFY,
	SCN_LOCK,
	SCN_UNLOCK,
	SCN_SUBMIT,
	SCN_GPU_FILL,
	SCN_GPU_COPY,
	SCN_RESIDENT,
	SCN_EVICT,
	SCN_PRIORITY,
	SCN_IDLE,
	SCN_INJECT,
	SCN_SNAPSHOT,
	SCN_SHOW,
	SCN_ECHO,
	SCN_EXPECT_IN,
	SCN_EXPECT_STAT,
	SCN_EXPECT_STATUS,
	SCN_IMAGE,
	SCN_SUBMIT_IMAGE,
	/* WDDM 2 */
	SCN_PAGINGQUEUE,
	SCN_WAIT_PAGING,
	SCN_VCONTEXT,
	SCN_RESERVE,
	SCN_MAP,
	SCN_UNMAP,
	SCN_FREE_VA,
	SCN_FENCE,
	SCN_SIGNAL,
	SCN_WAIT,
	SCN_GPU_SIGNAL,
	SCN_GPU_WAIT,
	SCN_CMDBUF,
	SCN_CMD,
	SCN_SUBMIT_COMMAND,
	SCN_EXPECT_FENCE,
	SCN_EXPECT_VA,
	SCN_EXPECT_FAULT,
};

/* `cmd B OP ...`: the packet appended to command buffer B */
enum scn_op { SCN_OP_FILL = 1, SCN_OP_COPY, SCN_OP_WRITE, SCN_OP_SIGNAL, SCN_OP_WAIT, SCN_OP_RESET, SCN_OP_RAW };

/* A GPU virtual address as written: a number, or NAME[+OFF] where NAME is a VA
 * range (reserve, map) resolved when the command runs. */
struct scn_va {
	char *name;        /* NULL: addr is the address */
	uint64_t addr;     /* the number, or OFF after NAME */
};

/* `expect NAME in WHERE` */
enum scn_where {
	SCN_IN_VISIBLE = 1,
	SCN_IN_INVISIBLE,
	SCN_IN_VRAM,
	SCN_IN_GART,
	SCN_IN_SYS,
	SCN_IN_RESIDENT,
	SCN_IN_VRAM2,     /* the second VRAM pool (adapter pools=2) */
};

enum scn_cmp { SCN_EQ = 1, SCN_NE, SCN_LT, SCN_LE, SCN_GT, SCN_GE };

enum scn_inject { SCN_INJ_DEVICE_REMOVED = 1, SCN_INJ_DMA_ERROR, SCN_INJ_SYSMEM_OOM };

struct scn_loc {
	const char *file;  /* owned by the script (its file table) */
	uint32_t line, col;
};

struct scn_cmd {
	enum scn_kind kind;
	struct scn_loc loc;

	char *name;         /* the allocation or device the command is about */
	char *name2;        /* gpu-copy: DST */
	char *device;       /* device=D, NULL for `default` */
	char **names;       /* free, submit, resident, evict */
	uint32_t nnames;

	/* adapter */
	struct gpusim_config config;   /* defaults overridden by the keys given */
	bool seed_given;

	/* alloc */
	uint64_t size, align;
	uint32_t prefer[3], nprefer;   /* GPUSIM_SEG_* ids in order */
	uint32_t only;                 /* GPUSIM_SEG_BIT mask, 0 = any */
	uint32_t priority;             /* D3DDDI_ALLOCATIONPRIORITY_* or a number; 0 = normal */
	bool cpu, pinned, shared;
	char *resource;

	/* write / verify */
	uint64_t offset;               /* 0 unless given */
	uint64_t length;               /* 0 = to the end of the allocation */
	bool length_given;
	uint64_t seed;

	/* lock */
	bool nowait;
	/* gpu-fill */
	uint32_t value;
	bool stale;
	/* inject */
	enum scn_inject inject;
	uint64_t after;                /* sysmem-oom after=N pages (default 0) */
	/* snapshot FILE, adapter from=FILE: as written (relative to the working
	 * directory); image: the file the parser read (see LANGUAGE.md) */
	char *path;
	/* image: the file read and checked when the script was parsed (owned by the
	 * script's image table); names[] = NAME.0 .. NAME.n-1, one per segment */
	const struct elfimg *image;
	int32_t machine;               /* machine=N, else ELFIMG_ANY_MACHINE (-1) */
	/* submit-image */
	uint32_t segment;
	bool segment_given;
	/* verify value=N (value holds N) */
	bool value_given;
	/* echo */
	char *text;
	/* expect in */
	enum scn_where where;
	/* expect stat */
	char *stat_key;
	enum scn_cmp cmp;
	uint64_t stat_value;
	/* expect status */
	NTSTATUS status;
	char *status_name;
	struct scn_cmd *inner;         /* the wrapped command */

	/* WDDM 2. name: the object defined or used first (queue, context, VA range,
	 * fence, command buffer); name2: the second name (map: ALLOC; gpu-signal,
	 * gpu-wait: F; submit-command: B; expect va: ALLOC; expect fault: alloc=) */
	char *queue;                   /* queue=Q (resident, map, reserve) */
	struct scn_va va, va2;         /* map at=, cmd operands, expect va, expect fault va= */
	bool va_given, va2_given;
	uint64_t base, min, max;       /* reserve base= min= max= (0 unless given) */
	uint64_t pages;                /* map pages= (0: to the end of ALLOC) */
	bool pages_given, readonly;
	uint64_t fence_value;          /* value= of the fence commands, initial= of fence */
	enum scn_op op;                /* cmd */
	uint32_t *raw;                 /* cmd B raw: the dwords as written */
	uint32_t nraw;
	bool mapped;                   /* expect va: mapped (true) or unmapped */
	uint32_t fault_cause;          /* expect fault cause=NAME: HW_FAULT_*, 0 when not given */
};
/* cmd B raw: at most a command buffer's worth of dwords (64 KiB). */
#define SCN_MAX_RAW_DWORDS 16384u

struct elfimg;

/* An image file read for `image` (sim/elf/image.h), shared by the commands that
 * name the same file with the same machine=. */
struct scn_image {
	char *key;                     /* its realpath */
	int32_t machine;
	struct elfimg *img;
};

struct scn_script {
	struct scn_cmd *cmds;
	size_t ncmds;
	char **files;                  /* every file read, for scn_loc.file */
	size_t nfiles;
	struct scn_image *images;      /* every image read */
	size_t nimages;
};

struct scn_error {
	char file[512];
	uint32_t line, col;
	char msg[512];                 /* "expected X, found Y" and the like */
};

/* Limits that keep hostile input from exhausting memory. */
#define SCN_MAX_COMMANDS 1000000u   /* after repeat and include are expanded (~350 MB) */
#define SCN_MAX_INCLUDE_DEPTH 32
#define SCN_MAX_LINE 65536

/* Lower the command cap (tests of the cap, and the fuzzer, which has less memory). */
void scn_parse_set_max_commands(size_t n);

/* What a parse may do beyond the defaults (NULL: the defaults). */
struct scn_parse_options {
	/* An include may resolve outside the top-level scenario's directory
	 * (--allow-include-outside). By default it may not: LANGUAGE.md. */
	bool allow_include_outside;
};

/* The file name locations give a scenario read from standard input. */
#define SCN_STDIN_NAME "<stdin>"

/* Parse a file (includes resolved relative to it). Only a regular file of at most
 * 256 MiB is read; `-` reads standard input instead (includes then resolve relative
 * to, and stay under, the current directory). 0, or -1 with err filled. */
int scn_parse_file(const char *path, struct scn_script *out, struct scn_error *err);
int scn_parse_file_opts(const char *path, const struct scn_parse_options *opts,
			struct scn_script *out, struct scn_error *err);
/* Parse text in memory; `name` appears in locations. `include` is resolved relative
 * to `name`'s directory (the current one when `name` has no '/') and must stay under
 * it. For tests and the fuzzer. */
int scn_parse_string(const char *name, const char *text, size_t len, struct scn_script *out,
		     struct scn_error *err);
int scn_parse_string_opts(const char *name, const char *text, size_t len,
			  const struct scn_parse_options *opts, struct scn_script *out,
			  struct scn_error *err);
void scn_script_free(struct scn_script *s);
/* Print a parse or check error as `file:line:col: error: message`; `path` stands
 * in for an empty err->file. Only sim/ programs call it: the library itself prints nothing. */
void scn_print_error(FILE *f, const char *path, const struct scn_error *err);

/* The static check: names used before alloc/device or after free, names defined
 * twice, a second adapter, adapter after other commands. 0, or -1 with err. */
int scn_check(const struct scn_script *s, struct scn_error *err);

/* ---- running ----------------------------------------------------------------- */

struct scn_options {
	bool quiet;        /* only failures and the summary line */
	bool verbose;      /* every event as it happens */
	bool seed_given;   /* --seed N overrides the scenario's adapter seed */
	uint64_t seed;
	bool progress;     /* draw a progress bar on `err` (a terminal) for long runs */
	FILE *out;         /* story, show, echo, events, summary */
	FILE *err;         /* failures: "file:line: message" */
	/* Observers (traces, the viewer): the adapter once created, then every event
	 * and every allocation name as it is given, in order, up to the end checks.
	 * on_item is called with the library lock held: it must not call the API.
	 * May be NULL. */
	/* --dump-on-fault: a snapshot DIR/SCENARIO-fault-N.elf after a command during
	 * which the GPU faulted or the device was removed. NULL: none. */
	const char *dump_dir;
	void (*on_adapter)(void *ctx, LUID luid);
	void (*on_item)(void *ctx, const struct gpusim_trace_item *item);
	void *ctx;
};

struct scn_result {
	uint64_t commands;       /* commands run */
	uint64_t expectations;   /* expectations checked */
	uint64_t failed;         /* expectations or commands that failed */
	struct gpusim_stats stats;
	bool stopped;            /* a command failed and the scenario stopped */
};

/* Run one parsed, checked script on a fresh adapter (gpusim_reset() first).
 * Returns 0 when everything held, 1 when something failed. */
int scn_run(const struct scn_script *s, const struct scn_options *opt, struct scn_result *res);

/* Names for status codes, both ways: "STATUS_NO_MEMORY" <-> 0xC0000017. */
bool scn_status_from_name(const char *name, NTSTATUS *out);
const char *scn_status_name(NTSTATUS st);

#endif
