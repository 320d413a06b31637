/*
 * The scenario parser: reads .gsim text, expands `include` and `repeat` into one flat
 * list of commands that remember the file, line and column they came from, and
 * validates every command and key of LANGUAGE.md. Any input gives a script or an
 * error, never a crash, a leak or an unbounded amount of memory or time.
 */
#include <config.h>

#include <inttypes.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/elf/image.h"
#include "sim/scenario/scenario.h"

/* Line numbers are 32 bits: a bounded file keeps them from wrapping. */
#define MAX_FILE_BYTES (256u << 20)
/* read_file's answer for a FIFO, a device, a socket: reading one could block or never
 * end. */
#define ENOTREGULAR EINVAL
/* The longest command name is 14 bytes: an unknown command word is shown up to
 * this many, so that a line of someone else's file does not end up in a message. */
#define MAX_QUOTED_COMMAND 24
/* Each nested repeat is a C stack frame. */
#define MAX_REPEAT_DEPTH 64
/* A script that loops over empty inner loops produces few commands but costs time:
 * lines visited (repeat and include lines too) are capped as well. */
#define WORK_PER_COMMAND 2
/* And so is text: `repeat` of a long `echo` line would otherwise copy it millions of
 * times. About 1 GB with the default cap. */
#define BYTES_PER_COMMAND 100

/* Not in scenario.h: the fuzzer lowers the command cap so that a valid
 * `repeat 9999999 { idle }` stays within its memory limit. 0 restores the default. */

static size_t max_commands = SCN_MAX_COMMANDS;

void scn_parse_set_max_commands(size_t n)
{
	max_commands = (n && n < SCN_MAX_COMMANDS) ? n : SCN_MAX_COMMANDS;
}

/* ---- files ------------------------------------------------------------------ */

/* A line that holds something once comments and blanks are gone. */
struct sline {
	char *text;           /* in the file's buffer, comment cut off, right-trimmed */
	uint32_t lineno;
	uint32_t match;       /* repeat header: index of its '}', 0 until looked for */
	uint32_t body_cmds;   /* lines of the body at its own level that are commands */
	uint32_t body_lines;  /* all lines of the body at its own level */
	uint64_t body_bytes;  /* their text as written */
};

struct sfile {
	char *key;            /* realpath (or the name given): cycles and the cache */
	const char *display;  /* as the user named it; owned by the script */
	char *buf;
	struct sline *lines;
	size_t nlines;
	/* An included file whose lines have not yet begun with a command may not be a
	 * scenario at all: its text stays out of error messages until one does. */
	bool included, is_scenario;
};

struct word {
	char *s;
	uint32_t col;
};

struct loopvar {
	uint64_t i;
};

struct pctx {
	struct scn_script *out;
	struct scn_error *err;
	size_t cmdcap;
	uint64_t max_cmds, max_work, work, loaded_lines;
	uint64_t max_bytes, bytes, loaded_bytes;

	struct sfile **cache;
	size_t ncache, cachecap;
	struct sfile *stack[SCN_MAX_INCLUDE_DEPTH + 1];
	unsigned depth;
	unsigned repeat_depth;

	/* The line being parsed, after $i substitution; colmap gives each byte's
	 * column in the text as written. */
	char *buf;
	uint32_t *colmap;
	size_t bufcap;
	struct word *w;
	size_t nw, wcap;
	size_t len;
	uint32_t endcol;
	bool in_loop;
	const char *file;
	uint32_t lineno;

	bool allow_outside;   /* scn_parse_options.allow_include_outside */
	char *top_dir;        /* the top-level scenario's directory as named */
	char *root;           /* its realpath, once an include needs it */
};

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* A word for a message: printable, and short enough that the message survives (at
 * most `limit` bytes of it, then "..."). */
static const char *quote(char *dst, size_t cap, size_t limit, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (o + 8 >= cap || o >= limit) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
			dst[o++] = (char)ch;
		} else if (ch == '\\') {
			dst[o++] = '\\';
			dst[o++] = '\\';
		} else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[ch >> 4];
			dst[o++] = hex[ch & 15];
		}
	}
	dst[o] = '\0';
	return dst;
}

#define Q(s) quote((char[64]){ 0 }, 64, 48, (s))
/* File names in the include messages: long enough to tell directories apart. */
#define QPATH(s) quote((char[176]){ 0 }, 176, 160, (s))

static int fail_at(struct pctx *c, const char *file, uint32_t line, uint32_t col, const char *fmt,
		   ...) __attribute__((format(printf, 5, 6)));
static int fail_at(struct pctx *c, const char *file, uint32_t line, uint32_t col, const char *fmt,
		   ...)
{
	struct scn_error *e = c->err;
	va_list ap;

	snprintf(e->file, sizeof e->file, "%s", file ? file : "");
	e->line = line;
	e->col = col;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/* An error on the line being parsed. */
#define fail(c, col, ...) fail_at((c), (c)->file, (c)->lineno, (col), __VA_ARGS__)

static void sfile_free(struct sfile *f)
{
	if (!f)
		return;
	free(f->key);
	free(f->buf);
	free(f->lines);
	free(f);
}

/* Split a file's text into the lines that hold something. `buf` is NUL-terminated at
 * `len` and becomes the file's. */
static int split_lines(struct pctx *c, struct sfile *f, char *buf, size_t len)
{
	size_t cap = 0;
	uint32_t lineno = 0;
	char *p = buf, *end = buf + len;

	f->buf = buf;
	c->loaded_bytes += len;
	if (c->loaded_bytes > c->max_bytes)
		return fail_at(c, f->display, 0, 0, "expected at most %llu bytes in all files, found more",
			       (unsigned long long)c->max_bytes);
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;  /* a UTF-8 byte order mark, as Windows editors write it */
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *eol = nl ? nl : end;
		size_t n = (size_t)(eol - p);

		lineno++;
		if (n && p[n - 1] == '\r')
			n--;
		if (n > SCN_MAX_LINE)
			return fail_at(c, f->display, lineno, SCN_MAX_LINE + 1,
				       "expected at most %u bytes on a line, found %zu", SCN_MAX_LINE, n);
		char *nul = memchr(p, '\0', (size_t)(eol - p));
		if (nul)
			return fail_at(c, f->display, lineno, (uint32_t)(nul - p) + 1,
				       "expected text, found a NUL byte");
		*eol = '\0';
		char *hash = strchr(p, '#');
		if (hash)
			*hash = '\0';
		size_t m = strlen(p);
		while (m && is_blank(p[m - 1]))
			p[--m] = '\0';
		size_t lead = 0;
		while (lead < m && is_blank(p[lead]))
			lead++;
		if (lead < m) {
			if (++c->loaded_lines > c->max_work)
				return fail_at(c, f->display, lineno, 1,
					       "expected at most %llu lines in all files, found more",
					       (unsigned long long)c->max_work);
			if (f->nlines == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				struct sline *nl2 = realloc(f->lines, ncap * sizeof *nl2);
				if (!nl2)
					return fail_at(c, f->display, lineno, 1, "out of memory");
				f->lines = nl2;
				cap = ncap;
			}
			f->lines[f->nlines++] = (struct sline){ .text = p, .lineno = lineno };
		}
		p = eol + 1;
	}
	return 0;
}

/* Register a file under `display` (taken over) and split `buf` (taken over). */
static int add_file(struct pctx *c, char *key, char *display, char *buf, size_t len,
		    struct sfile **out)
{
	struct scn_script *s = c->out;
	struct sfile *f = calloc(1, sizeof *f);
	char **nfiles = realloc(s->files, (s->nfiles + 1) * sizeof *nfiles);

	if (nfiles)
		s->files = nfiles;
	if (!f || !nfiles) {
		free(f);
		free(key);
		free(buf);
		int rc = fail_at(c, display, 0, 0, "out of memory");
		free(display);
		return rc;
	}
	s->files[s->nfiles++] = display;
	f->key = key;
	f->display = display;
	if (c->ncache == c->cachecap) {
		size_t ncap = c->cachecap ? c->cachecap * 2 : 8;
		struct sfile **nc = realloc(c->cache, ncap * sizeof *nc);
		if (!nc) {
			sfile_free(f);
			free(buf);
			return fail_at(c, display, 0, 0, "out of memory");
		}
		c->cache = nc;
		c->cachecap = ncap;
	}
	c->cache[c->ncache++] = f;
	*out = f;
	return split_lines(c, f, buf, len);
}

/* Read what fd holds up to its end, at most MAX_FILE_BYTES (-EFBIG beyond: the read
 * stops at the first byte too many, so a file that grows after fstat or a pipe
 * that never ends costs no more). `hint`: the size fstat saw, 0 if none. */
static int read_fd(int fd, size_t hint, char **buf, size_t *len)
{
	size_t cap = hint < 65536 ? 65536 : hint + 1, n = 0;
	char *b = NULL;

	if (cap > (size_t)MAX_FILE_BYTES + 1)
		cap = (size_t)MAX_FILE_BYTES + 1;
	b = malloc(cap + 1);
	if (!b)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			if (n > MAX_FILE_BYTES)
				break;
			size_t ncap = cap * 2 > (size_t)MAX_FILE_BYTES + 1 ? (size_t)MAX_FILE_BYTES + 1 : cap * 2;
			char *nb = realloc(b, ncap + 1);
			if (!nb) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
			cap = ncap;
		}
		ssize_t got = read(fd, b + n, cap - n);
		if (got > 0) {
			n += (size_t)got;
			continue;
		}
		if (got == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			/* Standard input left non-blocking by whoever started us. */
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			if (poll(&pfd, 1, -1) >= 0 || errno == EINTR)
				continue;
		}
		int e = errno;
		free(b);
		return -(e ? e : EIO);
	}
	if (n > MAX_FILE_BYTES) {
		free(b);
		return -EFBIG;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

/* The main scenario from standard input: whatever it is, the user chose it; a
 * regular file is still refused by its size before it is read. */
static int read_stdin(char **buf, size_t *len)
{
	struct stat st;

	if (fstat(STDIN_FILENO, &st) != 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (S_ISREG(st.st_mode) && (st.st_size < 0 || (uint64_t)st.st_size > MAX_FILE_BYTES))
		return -EFBIG;
	return read_fd(STDIN_FILENO, S_ISREG(st.st_mode) ? (size_t)st.st_size : 0, buf, len);
}

/* Read a whole regular file. O_NONBLOCK: opening a FIFO must not wait for a writer;
 * the type and the size are those of the descriptor opened, so nothing can be
 * swapped in between a check and the open. Nothing is read from a file that is
 * not regular or is too large, except, with `stdin_ok`, a name for standard input
 * (/dev/stdin, /dev/fd/0: the pipe `cat x | gpusim run /dev/stdin` has always
 * read). On error returns -errno, -EFBIG or -ENOTREGULAR. */
static int read_file(const char *path, int extra_flags, bool stdin_ok, char **buf, size_t *len)
{
	struct stat st, in;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | extra_flags);

	if (fd < 0)
		return -errno;
	int rc = 0;
	if (fstat(fd, &st) != 0)
		rc = -errno;
	else if (S_ISDIR(st.st_mode))
		rc = -EISDIR;
	else if (!S_ISREG(st.st_mode))
		rc = stdin_ok && fstat(STDIN_FILENO, &in) == 0 && in.st_dev == st.st_dev &&
				     in.st_ino == st.st_ino && in.st_mode == st.st_mode
			     ? 1
			     : -ENOTREGULAR;
	else if (st.st_size < 0 || (uint64_t)st.st_size > MAX_FILE_BYTES)
		rc = -EFBIG;
	else
		rc = read_fd(fd, (size_t)st.st_size, buf, len);
	close(fd);
	return rc == 1 ? read_stdin(buf, len) : rc;
}

static const char *read_error(int rc)
{
	if (rc == -EFBIG)
		return "file larger than 256 MiB";
	if (rc == -ENOTREGULAR)
		return "not a regular file";
	return strerror(-rc);
}

/* ---- the line being parsed -------------------------------------------------- */

static int grow_buf(struct pctx *c, size_t need)
{
	if (need <= c->bufcap)
		return 0;
	size_t ncap = c->bufcap ? c->bufcap : 256;
	while (ncap < need)
		ncap *= 2;
	char *nb = realloc(c->buf, ncap);
	if (!nb)
		return -1;
	c->buf = nb;
	uint32_t *nm = realloc(c->colmap, ncap * sizeof *nm);
	if (!nm)
		return -1;
	c->colmap = nm;
	c->bufcap = ncap;
	return 0;
}

/* Copy a line into c->buf, `$i` replaced by the innermost iteration inside a repeat. */
static int prepare(struct pctx *c, const struct sline *ln, const struct loopvar *lv)
{
	const char *t = ln->text;
	size_t len = strlen(t), need = len + 1;
	char num[24];
	size_t numlen = 0;

	c->lineno = ln->lineno;
	c->in_loop = lv != NULL;
	if (lv) {
		numlen = (size_t)snprintf(num, sizeof num, "%llu", (unsigned long long)lv->i);
		for (const char *p = strstr(t, "$i"); p; p = strstr(p + 2, "$i"))
			need += numlen;  /* an upper bound: "$i" itself is dropped */
	}
	if (grow_buf(c, need) < 0)
		return fail(c, 1, "out of memory");
	size_t o = 0;
	for (size_t p = 0; p < len;) {
		if (lv && t[p] == '$' && t[p + 1] == 'i') {
			for (size_t k = 0; k < numlen; k++) {
				c->buf[o] = num[k];
				c->colmap[o++] = (uint32_t)p + 1;
			}
			p += 2;
		} else {
			c->buf[o] = t[p];
			c->colmap[o++] = (uint32_t)p + 1;
			p++;
		}
	}
	c->buf[o] = '\0';
	c->len = o;
	c->colmap[o] = (uint32_t)len + 1;
	c->endcol = (uint32_t)len + 1;
	return 0;
}

/* Split c->buf into words (NUL-terminated in place). */
static int tokenize(struct pctx *c)
{
	char *p = c->buf;

	c->nw = 0;
	for (;;) {
		while (is_blank(*p))
			*p++ = '\0';
		if (!*p)
			return 0;
		if (c->nw == c->wcap) {
			size_t ncap = c->wcap ? c->wcap * 2 : 16;
			struct word *nw = realloc(c->w, ncap * sizeof *nw);
			if (!nw)
				return fail(c, 1, "out of memory");
			c->w = nw;
			c->wcap = ncap;
		}
		c->w[c->nw++] = (struct word){ p, c->colmap[p - c->buf] };
		while (*p && !is_blank(*p))
			p++;
	}
}

/* ---- values ----------------------------------------------------------------- */

static bool is_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

/* `kind` is "an allocation", "a device", "a resource". */
static int check_name(struct pctx *c, const char *s, uint32_t col, const char *kind)
{
	if (is_name(s))
		return 0;
	if (!*s)
		return fail(c, col, "expected %s name, found nothing", kind);
	return fail(c, col, "expected %s name, found '%s'%s", kind, Q(s),
		    (!c->in_loop && strstr(s, "$i")) ? " ($i is only defined inside repeat)" : "");
}

static int dup_name(struct pctx *c, const char *s, char **dst)
{
	*dst = strdup(s);
	return *dst ? 0 : fail(c, 1, "out of memory");
}

/* A size or, with `number`, a number (which takes the same syntax). `what` names
 * where it stands ("size=", "the repeat count"). */
static int parse_u64(struct pctx *c, const char *text, uint32_t col, const char *what, bool number,
		     uint64_t *out)
{
	const char *kind = number ? "a number" : "a size";
	int rc;

	if (!*text)
		return fail(c, col, "expected %s for %s, found nothing", kind, what);
	rc = hw_parse_size(text, out);
	if (rc == -ERANGE)
		return fail(c, col, "%s '%s' overflows 64 bits", number ? "number" : "size", Q(text));
	if (rc)
		return fail(c, col, "expected %s for %s, found '%s'", kind, what, Q(text));
	return 0;
}

static const struct {
	const char *name;
	uint32_t value;
} priorities[] = {
	{ "minimum", D3DDDI_ALLOCATIONPRIORITY_MINIMUM },
	{ "low", D3DDDI_ALLOCATIONPRIORITY_LOW },
	{ "normal", D3DDDI_ALLOCATIONPRIORITY_NORMAL },
	{ "high", D3DDDI_ALLOCATIONPRIORITY_HIGH },
	{ "maximum", D3DDDI_ALLOCATIONPRIORITY_MAXIMUM },
};

static int parse_priority(struct pctx *c, const char *text, uint32_t col, uint32_t *out)
{
	uint64_t v;

	for (size_t i = 0; i < sizeof priorities / sizeof priorities[0]; i++) {
		if (!strcmp(text, priorities[i].name)) {
			*out = priorities[i].value;
			return 0;
		}
	}
	if (hw_parse_size(text, &v) == 0 && v >= 1 && v <= UINT32_MAX) {
		*out = (uint32_t)v;
		return 0;
	}
	return fail(c, col,
		    "expected a priority (minimum, low, normal, high, maximum or 1..0xFFFFFFFF), "
		    "found '%s'",
		    *text ? Q(text) : "");
}

/* prefer= (an ordered list, vram = invisible,visible) or only= (a mask). */
static int parse_segments(struct pctx *c, const char *text, uint32_t col, bool prefer,
			  struct scn_cmd *cmd)
{
	const char *key = prefer ? "prefer=" : "only=";
	uint32_t ids[8], n = 0, mask = 0;
	size_t total = 0;
	const char *p = text;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		uint32_t add[2], nadd = 0;

		if (len == 0)
			return fail(c, col, "expected a segment in %s, found nothing", key);
		if (len == 7 && !memcmp(p, "visible", 7)) {
			add[nadd++] = GPUSIM_SEG_VISIBLE;
		} else if (len == 9 && !memcmp(p, "invisible", 9)) {
			add[nadd++] = GPUSIM_SEG_INVISIBLE;
		} else if (len == 4 && !memcmp(p, "vram", 4)) {
			add[nadd++] = GPUSIM_SEG_INVISIBLE;
			add[nadd++] = GPUSIM_SEG_VISIBLE;
		} else if (len == 4 && !memcmp(p, "gart", 4)) {
			add[nadd++] = GPUSIM_SEG_GART;
		} else if (len == 5 && !memcmp(p, "vram2", 5)) {
			add[nadd++] = GPUSIM_SEG_VRAM2;
		} else {
			char seg[64];
			size_t m = len < sizeof seg - 1 ? len : sizeof seg - 1;
			memcpy(seg, p, m);
			seg[m] = '\0';
			return fail(c, col,
				    "unknown segment '%s' in %s (expected one of: visible, invisible, "
				    "vram, gart, vram2)",
				    Q(seg), key);
		}
		for (uint32_t k = 0; k < nadd; k++) {
			total++;
			mask |= GPUSIM_SEG_BIT(add[k]);
			if (n < sizeof ids / sizeof ids[0])
				ids[n++] = add[k];
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	if (!prefer) {
		cmd->only = mask;
		return 0;
	}
	if (total > 3)
		return fail(c, col, "expected at most 3 segments in prefer=, found %zu%s", total,
			    strstr(text, "vram") ? " (vram counts as invisible,visible)" : "");
	memcpy(cmd->prefer, ids, total * sizeof ids[0]);
	cmd->nprefer = (uint32_t)total;
	return 0;
}

/* ---- keys ------------------------------------------------------------------- */

enum key_id {
	K_DEVICE, K_SIZE, K_PREFER, K_ONLY, K_ALIGN, K_PRIORITY, K_CPU, K_PINNED, K_RESOURCE,
	K_SHARED, K_OFFSET, K_SEED, K_NOWAIT, K_VALUE, K_STALE, K_AFTER, K_VRAM, K_VISIBLE,
	K_GART, K_SYSMEM, K_POLICY, K_MACHINE, K_POOLS, K_RING_FAULTS,
	K_FROM, K_QUEUE, K_BASE, K_MIN, K_MAX, K_AT, K_PAGES, K_READONLY, K_INITIAL, K_VA, K_ALLOC, K_CAUSE,
	K_COUNT
};

struct key {
	const char *name;
	enum key_id id;
	const char *form;  /* "size=SIZE"; NULL for a flag */
};

static const struct key adapter_keys[] = {
	{ "vram", K_VRAM, "vram=SIZE" },       { "visible", K_VISIBLE, "visible=SIZE" },
	{ "gart", K_GART, "gart=SIZE" },       { "sysmem", K_SYSMEM, "sysmem=SIZE" },
	{ "policy", K_POLICY, "policy=NAME" }, { "seed", K_SEED, "seed=N" },
	{ "pools", K_POOLS, "pools=N" },       { "from", K_FROM, "from=FILE.elf" },
	{ "ring_faults", K_RING_FAULTS, "ring_faults=skip|stop" },
};
static const struct key alloc_keys[] = {
	{ "device", K_DEVICE, "device=D" },
	{ "size", K_SIZE, "size=SIZE" },
	{ "prefer", K_PREFER, "prefer=SEG,..." },
	{ "only", K_ONLY, "only=SEG,..." },
	{ "align", K_ALIGN, "align=SIZE" },
	{ "priority", K_PRIORITY, "priority=LEVEL" },
	{ "cpu", K_CPU, NULL },
	{ "pinned", K_PINNED, NULL },
	{ "resource", K_RESOURCE, "resource=R" },
	{ "shared", K_SHARED, NULL },
};
static const struct key rw_keys[] = {
	{ "offset", K_OFFSET, "offset=N" },
	{ "size", K_SIZE, "size=N" },
	{ "seed", K_SEED, "seed=N" },
};
static const struct key verify_keys[] = {
	{ "offset", K_OFFSET, "offset=N" },
	{ "size", K_SIZE, "size=N" },
	{ "seed", K_SEED, "seed=N" },
	{ "value", K_VALUE, "value=N" },
};
static const struct key image_keys[] = {
	{ "device", K_DEVICE, "device=D" },
	{ "prefer", K_PREFER, "prefer=SEG,..." },
	{ "only", K_ONLY, "only=SEG,..." },
	{ "priority", K_PRIORITY, "priority=LEVEL" },
	{ "machine", K_MACHINE, "machine=N" },
};
static const struct key lock_keys[] = { { "nowait", K_NOWAIT, NULL } };
static const struct key submit_keys[] = { { "device", K_DEVICE, "device=D" } };
static const struct key fill_keys[] = {
	{ "value", K_VALUE, "value=N" },
	{ "stale", K_STALE, NULL },
};
static const struct key oom_keys[] = { { "after", K_AFTER, "after=N" } };
static const struct key resident_keys[] = { { "queue", K_QUEUE, "queue=Q" } };
static const struct key reserve_keys[] = {
	{ "size", K_SIZE, "size=SIZE" }, { "base", K_BASE, "base=ADDR" }, { "min", K_MIN, "min=ADDR" },
	{ "max", K_MAX, "max=ADDR" },    { "device", K_DEVICE, "device=D" },
};
static const struct key map_keys[] = {
	{ "at", K_AT, "at=ADDR|R[+OFF]" }, { "offset", K_OFFSET, "offset=PAGES" },
	{ "pages", K_PAGES, "pages=N" },   { "readonly", K_READONLY, NULL },
	{ "queue", K_QUEUE, "queue=Q" },
};
static const struct key fence_keys[] = {
	{ "device", K_DEVICE, "device=D" },
	{ "initial", K_INITIAL, "initial=N" },
};
static const struct key value_keys[] = { { "value", K_VALUE, "value=N" } };
static const struct key cmdbuf_keys[] = {
	{ "device", K_DEVICE, "device=D" },
	{ "size", K_SIZE, "size=SIZE" },
};
static const struct key cmd_fill_keys[] = {
	{ "size", K_SIZE, "size=N" },
	{ "value", K_VALUE, "value=N" },
};
static const struct key cmd_copy_keys[] = { { "size", K_SIZE, "size=N" } };
static const struct key fault_keys[] = {
	{ "va", K_VA, "va=V[+OFF]" },
	{ "alloc", K_ALLOC, "alloc=NAME" },
	{ "cause", K_CAUSE, "cause=NAME" },
};

#define KEYS(a) a, sizeof a / sizeof a[0]

static void key_list(char *dst, size_t cap, const struct key *keys, size_t nkeys)
{
	size_t o = 0;

	dst[0] = '\0';
	for (size_t i = 0; i < nkeys && o < cap; i++)
		o += (size_t)snprintf(dst + o, cap - o, "%s%s", i ? ", " : "", keys[i].name);
}

/* Commands whose value= is a monitored fence's 64-bit value. */
static bool fence_valued(const struct scn_cmd *cmd)
{
	switch (cmd->kind) {
	case SCN_SIGNAL:
	case SCN_WAIT:
	case SCN_GPU_SIGNAL:
	case SCN_GPU_WAIT:
		return true;
	case SCN_CMD:
		return cmd->op == SCN_OP_SIGNAL || cmd->op == SCN_OP_WAIT;
	default:
		return false;
	}
}

/* A GPU virtual address: a number, or NAME[+OFF] with NAME a VA range. Errors in
 * the whole are at col (the word), in OFF at its own column (vcol: the value's). */
static int parse_va(struct pctx *c, const char *text, uint32_t col, uint32_t vcol, const char *what,
		    struct scn_va *out)
{
	if (!*text)
		return fail(c, col, "expected an address or a VA name for %s, found nothing", what);
	if (*text >= '0' && *text <= '9')
		return parse_u64(c, text, col, what, true, &out->addr);
	const char *plus = strchr(text, '+');
	size_t nl = plus ? (size_t)(plus - text) : strlen(text);
	char *name = strndup(text, nl);
	if (!name)
		return fail(c, col, "out of memory");
	if (!is_name(name)) {
		int rc = fail(c, col, "expected an address or a VA name for %s, found '%s'", what, Q(name));
		free(name);
		return rc;
	}
	free(out->name);
	out->name = name;
	out->addr = 0;
	if (plus && parse_u64(c, plus + 1, vcol + (uint32_t)nl + 1, "the offset after +", true, &out->addr) < 0)
		return -1;
	return 0;
}

static int set_key(struct pctx *c, struct scn_cmd *cmd, const struct key *k, const char *v,
		   uint32_t col)
{
	char what[24];
	uint64_t u;

	snprintf(what, sizeof what, "%s=", k->name);
	switch (k->id) {
	case K_DEVICE:
		if (check_name(c, v, col, "a device") < 0)
			return -1;
		return strcmp(v, "default") ? dup_name(c, v, &cmd->device) : 0;
	case K_SIZE: {
		bool bytes = cmd->kind == SCN_ALLOC || cmd->kind == SCN_RESERVE || cmd->kind == SCN_CMDBUF;
		if (parse_u64(c, v, col, what, !bytes, &u) < 0)
			return -1;
		if (bytes) {
			cmd->size = u;
		} else {
			cmd->length = u;
			cmd->length_given = true;
		}
		return 0;
	}
	case K_PREFER:
		return parse_segments(c, v, col, true, cmd);
	case K_ONLY:
		return parse_segments(c, v, col, false, cmd);
	case K_ALIGN:
		return parse_u64(c, v, col, what, false, &cmd->align);
	case K_PRIORITY:
		return parse_priority(c, v, col, &cmd->priority);
	case K_RESOURCE:
		if (check_name(c, v, col, "a resource") < 0)
			return -1;
		return dup_name(c, v, &cmd->resource);
	case K_OFFSET:
		return parse_u64(c, v, col, what, true, &cmd->offset);
	case K_SEED:
		if (cmd->kind == SCN_ADAPTER) {
			cmd->seed_given = true;
			return parse_u64(c, v, col, what, true, &cmd->config.seed);
		}
		return parse_u64(c, v, col, what, true, &cmd->seed);
	case K_VALUE:
		if (parse_u64(c, v, col, what, true, &u) < 0)
			return -1;
		if (fence_valued(cmd)) {  /* monitored fences hold 64 bits */
			cmd->fence_value = u;
			cmd->value_given = true;
			return 0;
		}
		if (u > UINT32_MAX)
			return fail(c, col, "expected a 32-bit value for value=, found '%s'", Q(v));
		cmd->value = (uint32_t)u;
		cmd->value_given = true;
		return 0;
	case K_MACHINE:
		if (parse_u64(c, v, col, what, true, &u) < 0)
			return -1;
		if (u > 0xffff)
			return fail(c, col, "expected an e_machine number (0..0xffff) for machine=, found '%s'",
				    Q(v));
		cmd->machine = (int32_t)u;
		return 0;
	case K_AFTER:
		return parse_u64(c, v, col, what, true, &cmd->after);
	case K_VRAM:
	case K_VISIBLE:
	case K_GART:
	case K_SYSMEM:
		if (parse_u64(c, v, col, what, false, &u) < 0)
			return -1;
		if (hw_config_set(&cmd->config.hw, k->name, v))
			return fail(c, col, "expected a size for %s, found '%s'", what, Q(v));
		return 0;
	case K_FROM:
		return dup_name(c, v, &cmd->path);
	case K_POOLS:
		if (strcmp(v, "1") && strcmp(v, "2"))
			return fail(c, col, "expected 1 or 2 for pools=, found '%s'", Q(v));
		cmd->config.vram_pools = (uint32_t)(v[0] - '0');
		return 0;
	case K_RING_FAULTS:
		if (!strcmp(v, "skip"))
			cmd->config.ring_faults = GPUSIM_RING_FAULTS_SKIP;
		else if (!strcmp(v, "stop"))
			cmd->config.ring_faults = GPUSIM_RING_FAULTS_STOP;
		else
			return fail(c, col, "expected skip or stop for ring_faults=, found '%s'", Q(v));
		return 0;
	case K_POLICY: {
		/* The library's own list: a policy added there is a policy here. */
		char names[160] = "";
		size_t used = 0;
		for (unsigned i = 0; gpusim_policy_name(i); i++) {
			if (!strcmp(v, gpusim_policy_name(i))) {
				snprintf(cmd->config.policy, sizeof cmd->config.policy, "%s", v);
				return 0;
			}
			if (used < sizeof names)
				used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
							 gpusim_policy_name(i));
		}
		return fail(c, col, "unknown policy '%s' (expected one of: %s)", Q(v), names);
	}
	case K_CPU:
		cmd->cpu = true;
		return 0;
	case K_PINNED:
		cmd->pinned = true;
		return 0;
	case K_SHARED:
		cmd->shared = true;
		return 0;
	case K_NOWAIT:
		cmd->nowait = true;
		return 0;
	case K_STALE:
		cmd->stale = true;
		return 0;
	case K_QUEUE:
		if (check_name(c, v, col, "a paging queue") < 0)
			return -1;
		return dup_name(c, v, &cmd->queue);
	case K_BASE:
		return parse_u64(c, v, col, what, true, &cmd->base);
	case K_MIN:
		return parse_u64(c, v, col, what, true, &cmd->min);
	case K_MAX:
		return parse_u64(c, v, col, what, true, &cmd->max);
	case K_AT:
	case K_VA:
		cmd->va_given = true;
		return parse_va(c, v, col, col + (uint32_t)strlen(k->name) + 1, what, &cmd->va);
	case K_PAGES:
		cmd->pages_given = true;
		return parse_u64(c, v, col, what, true, &cmd->pages);
	case K_READONLY:
		cmd->readonly = true;
		return 0;
	case K_INITIAL:
		return parse_u64(c, v, col, what, true, &cmd->fence_value);
	case K_ALLOC:
		if (check_name(c, v, col, "an allocation") < 0)
			return -1;
		return dup_name(c, v, &cmd->name2);
	case K_CAUSE: {
		/* The device's own names (hw_fault_name): a cause added there is one here. */
		char names[512] = "";
		size_t used = 0;
		for (uint32_t i = 1; i <= HW_FAULT_MAX; i++) {
			if (!strcmp(v, hw_fault_name(i))) {
				cmd->fault_cause = i;
				return 0;
			}
			if (used < sizeof names)
				used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i > 1 ? ", " : "",
							 hw_fault_name(i));
		}
		return fail(c, col, "unknown fault cause '%s' (expected one of: %s)", Q(v), names);
	}
	case K_COUNT:
		break;
	}
	return fail(c, col, "internal error: key '%s'", k->name);
}

static int add_name(struct pctx *c, struct scn_cmd *cmd, const char *s, uint32_t col)
{
	if (check_name(c, s, col, "an allocation") < 0)
		return -1;
	/* Words are at most half a line: nnames cannot overflow. */
	char **nn = realloc(cmd->names, (cmd->nnames + 1) * sizeof *nn);
	if (!nn)
		return fail(c, col, "out of memory");
	cmd->names = nn;
	if (dup_name(c, s, &cmd->names[cmd->nnames]) < 0)
		return -1;
	cmd->nnames++;
	return 0;
}

/* The keys and flags of words [from, n). With `names`, words without '=' are
 * allocation names (free, submit, resident, evict). seen[id] = word index + 1. */
static int parse_keys(struct pctx *c, size_t from, const struct key *keys, size_t nkeys,
		      const char *cmdname, struct scn_cmd *cmd, bool names, size_t seen[K_COUNT])
{
	char list[256];

	for (size_t i = from; i < c->nw; i++) {
		const struct word *w = &c->w[i];
		const char *eq = strchr(w->s, '=');
		size_t klen = eq ? (size_t)(eq - w->s) : strlen(w->s);
		const struct key *k = NULL;

		for (size_t j = 0; j < nkeys && !k; j++)
			if (strlen(keys[j].name) == klen && !memcmp(keys[j].name, w->s, klen))
				k = &keys[j];
		if (names && ((!eq && (!k || k->form)) || (eq && !nkeys))) {
			if (add_name(c, cmd, w->s, w->col) < 0)
				return -1;
			continue;
		}
		if (!k) {
			key_list(list, sizeof list, keys, nkeys);
			if (eq) {
				char key[64];
				size_t m = klen < sizeof key - 1 ? klen : sizeof key - 1;
				memcpy(key, w->s, m);
				key[m] = '\0';
				return fail(c, w->col, "unknown key '%s' for %s (expected one of: %s)",
					    Q(key), cmdname, list);
			}
			if (!nkeys)
				return fail(c, w->col, "expected end of line, found '%s'", Q(w->s));
			return fail(c, w->col, "unexpected word '%s' for %s (expected one of: %s)",
				    Q(w->s), cmdname, list);
		}
		if (eq && !k->form)
			return fail(c, w->col, "expected '%s' (a flag takes no value), found '%s'",
				    k->name, Q(w->s));
		if (!eq && k->form)
			return fail(c, w->col, "expected %s, found '%s'", k->form, Q(w->s));
		if (seen[k->id])
			return fail(c, w->col, "duplicate key '%s' (first given at column %u)", k->name,
				    c->w[seen[k->id] - 1].col);
		seen[k->id] = i + 1;
		if (set_key(c, cmd, k, eq ? eq + 1 : "", w->col) < 0)
			return -1;
	}
	return 0;
}

static int need_key(struct pctx *c, const size_t seen[K_COUNT], enum key_id id, const char *form,
		    const char *cmdname)
{
	if (seen[id])
		return 0;
	return fail(c, c->endcol, "expected %s for %s, found end of line", form, cmdname);
}

/* Word k is an allocation (or device) name that must be there. */
static int positional(struct pctx *c, size_t k, const char *kind, const char *after, char **dst)
{
	if (k >= c->nw)
		return fail(c, c->endcol, "expected %s name after %s, found end of line", kind, after);
	if (check_name(c, c->w[k].s, c->w[k].col, kind) < 0)
		return -1;
	return dup_name(c, c->w[k].s, dst);
}

static int end_of_line(struct pctx *c, size_t k)
{
	if (k < c->nw)
		return fail(c, c->w[k].col, "expected end of line, found '%s'", Q(c->w[k].s));
	return 0;
}

/* ---- commands --------------------------------------------------------------- */

static const char command_list[] =
	"adapter, device, alloc, free, write, verify, lock, unlock, submit, gpu-fill, gpu-copy, "
	"resident, evict, priority, idle, inject, snapshot, show, echo, expect, repeat, include, "
	"image, submit-image, pagingqueue, wait-paging, vcontext, reserve, map, unmap, free-va, fence, "
	"signal, wait, gpu-signal, gpu-wait, cmdbuf, cmd, submit-command";

static const struct {
	const char *name;
	enum scn_kind kind;
} commands[] = {
	{ "adapter", SCN_ADAPTER },   { "device", SCN_DEVICE },     { "alloc", SCN_ALLOC },
	{ "free", SCN_FREE },         { "write", SCN_WRITE },       { "verify", SCN_VERIFY },
	{ "lock", SCN_LOCK },         { "unlock", SCN_UNLOCK },     { "submit", SCN_SUBMIT },
	{ "gpu-fill", SCN_GPU_FILL }, { "gpu-copy", SCN_GPU_COPY }, { "resident", SCN_RESIDENT },
	{ "evict", SCN_EVICT },       { "priority", SCN_PRIORITY }, { "idle", SCN_IDLE },
	{ "inject", SCN_INJECT },     { "snapshot", SCN_SNAPSHOT }, { "show", SCN_SHOW },
	{ "echo", SCN_ECHO },         { "expect", SCN_EXPECT_IN },
	{ "image", SCN_IMAGE },       { "submit-image", SCN_SUBMIT_IMAGE },
	{ "pagingqueue", SCN_PAGINGQUEUE }, { "wait-paging", SCN_WAIT_PAGING },
	{ "vcontext", SCN_VCONTEXT }, { "reserve", SCN_RESERVE },   { "map", SCN_MAP },
	{ "unmap", SCN_UNMAP },       { "free-va", SCN_FREE_VA },   { "fence", SCN_FENCE },
	{ "signal", SCN_SIGNAL },     { "wait", SCN_WAIT },         { "gpu-signal", SCN_GPU_SIGNAL },
	{ "gpu-wait", SCN_GPU_WAIT }, { "cmdbuf", SCN_CMDBUF },     { "cmd", SCN_CMD },
	{ "submit-command", SCN_SUBMIT_COMMAND },
};

/* A word that begins a line of a scenario: a command, or the structure around them. */
static bool is_command_word(const char *w)
{
	if (!strcmp(w, "repeat") || !strcmp(w, "include") || !strcmp(w, "}"))
		return true;
	for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
		if (!strcmp(commands[k].name, w))
			return true;
	return false;
}

static const struct {
	const char *name;
	enum scn_where where;
} wheres[] = {
	{ "visible", SCN_IN_VISIBLE }, { "invisible", SCN_IN_INVISIBLE }, { "vram", SCN_IN_VRAM },
	{ "gart", SCN_IN_GART },       { "sys", SCN_IN_SYS },             { "resident", SCN_IN_RESIDENT },
	{ "vram2", SCN_IN_VRAM2 },
};

static const char *const stat_keys[] = {
	"evictions", "page_ins", "moves", "demotions", "promotions", "bytes_in", "bytes_out", "faults",
	"submits", "allocations", "time", "usage.local", "budget.local", "usage.nonlocal", "budget.nonlocal",
};

static const struct {
	const char *name;
	enum scn_cmp cmp;
} ops[] = {
	{ "==", SCN_EQ }, { "!=", SCN_NE }, { "<", SCN_LT },
	{ "<=", SCN_LE }, { ">", SCN_GT },  { ">=", SCN_GE },
};

static void scn_cmd_clear(struct scn_cmd *cmd);
static int parse_command(struct pctx *c, size_t first, struct scn_cmd *cmd);
static int va_word(struct pctx *c, size_t k, const char *after, struct scn_va *out);

static int parse_expect(struct pctx *c, size_t f, struct scn_cmd *cmd)
{
	size_t n = c->nw - f;
	struct word *w = c->w + f;

	if (n < 2)
		return fail(c, c->endcol,
			    "expected an allocation name, 'stat', 'status', 'fence', 'va' or 'fault' "
			    "after expect, found end of line");
	if (!(n == 4 && !strcmp(w[2].s, "in")) && !strcmp(w[1].s, "stat")) {
		cmd->kind = SCN_EXPECT_STAT;
		if (n < 3)
			return fail(c, c->endcol, "expected a stat name after expect stat, found end of line");
		size_t k = 0;
		while (k < sizeof stat_keys / sizeof stat_keys[0] && strcmp(stat_keys[k], w[2].s))
			k++;
		if (k == sizeof stat_keys / sizeof stat_keys[0])
			return fail(c, w[2].col,
				    "unknown stat '%s' (expected one of: evictions, page_ins, moves, "
				    "demotions, promotions, bytes_in, bytes_out, faults, submits, allocations, time, "
				    "usage.local, budget.local, usage.nonlocal, budget.nonlocal)",
				    Q(w[2].s));
		if (dup_name(c, w[2].s, &cmd->stat_key) < 0)
			return -1;
		if (n < 4)
			return fail(c, c->endcol, "expected an operator (==, !=, <, <=, >, >=), found end of line");
		k = 0;
		while (k < sizeof ops / sizeof ops[0] && strcmp(ops[k].name, w[3].s))
			k++;
		if (k == sizeof ops / sizeof ops[0])
			return fail(c, w[3].col,
				    "unknown operator '%s' (expected one of: ==, !=, <, <=, >, >=)",
				    Q(w[3].s));
		cmd->cmp = ops[k].cmp;
		if (n < 5)
			return fail(c, c->endcol, "expected a number after %s, found end of line", w[3].s);
		if (parse_u64(c, w[4].s, w[4].col, "the stat value", true, &cmd->stat_value) < 0)
			return -1;
		return end_of_line(c, f + 5);
	}
	if (!(n == 4 && !strcmp(w[2].s, "in")) && !strcmp(w[1].s, "status")) {
		cmd->kind = SCN_EXPECT_STATUS;
		if (n < 3)
			return fail(c, c->endcol, "expected a status name after expect status, found end of line");
		if (!scn_status_from_name(w[2].s, &cmd->status))
			return fail(c, w[2].col,
				    "unknown status '%s' (expected a STATUS_* name such as "
				    "STATUS_SUCCESS, STATUS_NO_VIDEO_MEMORY, STATUS_INVALID_PARAMETER)",
				    Q(w[2].s));
		if (dup_name(c, w[2].s, &cmd->status_name) < 0)
			return -1;
		if (n < 4)
			return fail(c, c->endcol, "expected a command after expect status %s, found end of line",
				    w[2].s);
		static const char *const unwrappable[] = { "adapter", "expect", "echo", "show",
							   "repeat", "include", "}" };
		for (size_t k = 0; k < sizeof unwrappable / sizeof unwrappable[0]; k++)
			if (!strcmp(w[3].s, unwrappable[k]))
				return fail(c, w[3].col,
					    "expected a command that calls the driver after expect "
					    "status, found '%s'",
					    w[3].s);
		cmd->inner = calloc(1, sizeof *cmd->inner);
		if (!cmd->inner)
			return fail(c, w[3].col, "out of memory");
		return parse_command(c, f + 3, cmd->inner);
	}
	bool in_form = n == 4 && !strcmp(w[2].s, "in");  /* an allocation named fence, va, fault */
	if (!in_form && !strcmp(w[1].s, "fence")) {
		cmd->kind = SCN_EXPECT_FENCE;
		if (positional(c, f + 2, "a fence", "expect fence", &cmd->name) < 0)
			return -1;
		if (n < 4)
			return fail(c, c->endcol, "expected an operator (==, !=, <, <=, >, >=), found end of line");
		size_t k = 0;
		while (k < sizeof ops / sizeof ops[0] && strcmp(ops[k].name, w[3].s))
			k++;
		if (k == sizeof ops / sizeof ops[0])
			return fail(c, w[3].col, "unknown operator '%s' (expected one of: ==, !=, <, <=, >, >=)",
				    Q(w[3].s));
		cmd->cmp = ops[k].cmp;
		if (n < 5)
			return fail(c, c->endcol, "expected a number after %s, found end of line", w[3].s);
		if (parse_u64(c, w[4].s, w[4].col, "the fence value", true, &cmd->stat_value) < 0)
			return -1;
		return end_of_line(c, f + 5);
	}
	if (!in_form && !strcmp(w[1].s, "va")) {
		cmd->kind = SCN_EXPECT_VA;
		if (va_word(c, f + 2, "expect va", &cmd->va) < 0)
			return -1;
		cmd->va_given = true;
		if (n < 4)
			return fail(c, c->endcol, "expected 'mapped' or 'unmapped', found end of line");
		if (!strcmp(w[3].s, "unmapped"))
			return end_of_line(c, f + 4);
		if (strcmp(w[3].s, "mapped"))
			return fail(c, w[3].col, "expected 'mapped' or 'unmapped', found '%s'", Q(w[3].s));
		cmd->mapped = true;
		if (positional(c, f + 4, "an allocation", "mapped", &cmd->name2) < 0)
			return -1;
		return end_of_line(c, f + 5);
	}
	if (!in_form && !strcmp(w[1].s, "fault")) {
		size_t seen[K_COUNT] = { 0 };
		cmd->kind = SCN_EXPECT_FAULT;
		if (parse_keys(c, f + 2, KEYS(fault_keys), "expect fault", cmd, false, seen) < 0)
			return -1;
		if (seen[K_ALLOC] && !seen[K_VA])
			return fail(c, c->w[seen[K_ALLOC] - 1].col, "alloc= of expect fault needs va=V[+OFF]");
		if (!seen[K_VA] && !seen[K_CAUSE])
			return fail(c, c->endcol, "expected va=V[+OFF] or cause=NAME for expect fault, found end of line");
		return 0;
	}
	/* expect NAME in WHERE */
	cmd->kind = SCN_EXPECT_IN;
	if (positional(c, f + 1, "an allocation", "expect", &cmd->name) < 0)
		return -1;
	if (n < 3)
		return fail(c, c->endcol, "expected 'in', found end of line");
	if (strcmp(w[2].s, "in"))
		return fail(c, w[2].col, "expected 'in', found '%s'", Q(w[2].s));
	if (n < 4)
		return fail(c, c->endcol, "expected a segment after 'in', found end of line");
	size_t k = 0;
	while (k < sizeof wheres / sizeof wheres[0] && strcmp(wheres[k].name, w[3].s))
		k++;
	if (k == sizeof wheres / sizeof wheres[0])
		return fail(c, w[3].col,
			    "unknown segment '%s' (expected one of: visible, invisible, vram, gart, "
			    "sys, resident, vram2)",
			    Q(w[3].s));
	cmd->where = wheres[k].where;
	return end_of_line(c, f + 4);
}

static int prefer_within_only(struct pctx *c, const struct scn_cmd *cmd, const size_t seen[K_COUNT])
{
	if (!cmd->nprefer || !seen[K_ONLY])
		return 0;
	for (uint32_t i = 0; i < cmd->nprefer; i++) {
		if (cmd->only & GPUSIM_SEG_BIT(cmd->prefer[i]))
			continue;
		const struct word *wo = &c->w[seen[K_ONLY] - 1];
		return fail(c, c->w[seen[K_PREFER] - 1].col, "expected preferred segments within %s, found '%s'",
			    Q(wo->s), gpusim_segment_name(cmd->prefer[i]));
	}
	return 0;
}

/* ---- images ----------------------------------------------------------------- */

/* What the adapter of this script can ever hold: an allocation lives in one
 * segment, none larger than VRAM or the aperture; a submission's list must fit
 * VRAM and the aperture together. */
static void image_limits(const struct pctx *c, int32_t machine, struct elfimg_limits *lim)
{
	struct gpusim_config cfg;
	if (c->out->ncmds && c->out->cmds[0].kind == SCN_ADAPTER)
		cfg = c->out->cmds[0].config;
	else
		gpusim_config_default(&cfg);
	lim->max_segment = cfg.hw.vram > cfg.hw.gart ? cfg.hw.vram : cfg.hw.gart;
	lim->max_total = cfg.hw.vram > UINT64_MAX - cfg.hw.gart ? UINT64_MAX : cfg.hw.vram + cfg.hw.gart;
	lim->machine = machine;
}

/* Read the image named by word w (relative to the file being parsed, as
 * `include` is), or find it among those read already; NAME.0 .. NAME.n-1 go into
 * cmd->names. A bad image is an error at w. */
static int parse_image_file(struct pctx *c, const struct word *w, struct scn_cmd *cmd)
{
	const char *slash = strrchr(c->file, '/');
	size_t dl = (w->s[0] == '/' || !slash) ? 0 : (size_t)(slash - c->file) + 1, pl = strlen(w->s);
	char *path = malloc(dl + pl + 1);
	if (!path)
		return fail(c, w->col, "out of memory");
	memcpy(path, c->file, dl);
	memcpy(path + dl, w->s, pl + 1);
	cmd->path = path;
	char *key = realpath(path, NULL);
	if (!key)
		return fail(c, w->col, "cannot open image '%s': %s", Q(w->s), strerror(errno));
	struct scn_script *s = c->out;
	const struct elfimg *img = NULL;
	for (size_t i = 0; i < s->nimages && !img; i++)
		if (s->images[i].machine == cmd->machine && !strcmp(s->images[i].key, key))
			img = s->images[i].img;
	if (!img) {
		struct scn_image *ni = realloc(s->images, (s->nimages + 1) * sizeof(*ni));
		if (!ni) {
			free(key);
			return fail(c, w->col, "out of memory");
		}
		s->images = ni;
		struct elfimg_limits lim;
		struct elfimg *rd;
		char why[512];
		image_limits(c, cmd->machine, &lim);
		if (elfimg_read(path, &lim, &rd, why, sizeof(why))) {
			free(key);
			return fail(c, w->col, "%s", why);
		}
		s->images[s->nimages++] = (struct scn_image){ key, cmd->machine, rd };
		img = rd;
	} else {
		free(key);
	}
	cmd->image = img;
	cmd->names = calloc(img->nsegs, sizeof(*cmd->names));
	if (!cmd->names)
		return fail(c, w->col, "out of memory");
	for (uint32_t i = 0; i < img->nsegs; i++) {
		char buf[32];
		snprintf(buf, sizeof(buf), ".%" PRIu32, i);
		size_t nl = strlen(cmd->name), bl = strlen(buf);
		cmd->names[i] = malloc(nl + bl + 1);
		if (!cmd->names[i])
			return fail(c, w->col, "out of memory");
		memcpy(cmd->names[i], cmd->name, nl);
		memcpy(cmd->names[i] + nl, buf, bl + 1);
		cmd->nnames++;
	}
	return 0;
}

/* A positional GPU VA word (NAME[+OFF] or an address) that must be there. */
static int va_word(struct pctx *c, size_t k, const char *after, struct scn_va *out)
{
	if (k >= c->nw)
		return fail(c, c->endcol, "expected an address or a VA name after %s, found end of line", after);
	if (strchr(c->w[k].s, '='))
		return fail(c, c->w[k].col, "expected an address or a VA name after %s, found '%s'", after,
			    Q(c->w[k].s));
	return parse_va(c, c->w[k].s, c->w[k].col, c->w[k].col, after, out);
}

/* `cmd B OP ...`: one packet for command buffer B. */
static int parse_cmd_packet(struct pctx *c, size_t first, struct scn_cmd *cmd, size_t seen[K_COUNT])
{
	static const struct {
		const char *name;
		enum scn_op op;
	} ops_[] = { { "fill", SCN_OP_FILL },	  { "copy", SCN_OP_COPY },   { "write", SCN_OP_WRITE },
		     { "signal", SCN_OP_SIGNAL }, { "wait", SCN_OP_WAIT },   { "reset", SCN_OP_RESET },
		     { "raw", SCN_OP_RAW } };
	if (positional(c, first + 1, "a command buffer", "cmd", &cmd->name) < 0)
		return -1;
	if (first + 2 >= c->nw)
		return fail(c, c->endcol,
			    "expected fill, copy, write, signal, wait, reset or raw after cmd %s, found end of line",
			    cmd->name);
	const struct word *wo = &c->w[first + 2];
	size_t k = 0;
	while (k < sizeof ops_ / sizeof ops_[0] && strcmp(ops_[k].name, wo->s))
		k++;
	if (k == sizeof ops_ / sizeof ops_[0])
		return fail(c, wo->col,
			    "unknown packet '%s' (expected one of: fill, copy, write, signal, wait, reset, raw)", Q(wo->s));
	cmd->op = ops_[k].op;
	switch (cmd->op) {
	case SCN_OP_FILL:
		if (va_word(c, first + 3, "cmd fill", &cmd->va) < 0 ||
		    parse_keys(c, first + 4, KEYS(cmd_fill_keys), "cmd fill", cmd, false, seen) < 0 ||
		    need_key(c, seen, K_SIZE, "size=N", "cmd fill") < 0 ||
		    need_key(c, seen, K_VALUE, "value=N", "cmd fill") < 0)
			return -1;
		if (cmd->length % 4)
			return fail(c, c->w[seen[K_SIZE] - 1].col,
				    "expected a multiple of 4 for size= of cmd fill, found '%s'",
				    Q(c->w[seen[K_SIZE] - 1].s));
		break;
	case SCN_OP_COPY:
		if (va_word(c, first + 3, "cmd copy", &cmd->va) < 0 ||
		    va_word(c, first + 4, "cmd copy SRC", &cmd->va2) < 0 ||
		    parse_keys(c, first + 5, KEYS(cmd_copy_keys), "cmd copy", cmd, false, seen) < 0 ||
		    need_key(c, seen, K_SIZE, "size=N", "cmd copy") < 0)
			return -1;
		cmd->va2_given = true;
		break;
	case SCN_OP_WRITE:
		if (va_word(c, first + 3, "cmd write", &cmd->va) < 0 ||
		    parse_keys(c, first + 4, KEYS(value_keys), "cmd write", cmd, false, seen) < 0 ||
		    need_key(c, seen, K_VALUE, "value=N", "cmd write") < 0)
			return -1;
		break;
	case SCN_OP_SIGNAL:
	case SCN_OP_WAIT:
		if (positional(c, first + 3, "a fence", cmd->op == SCN_OP_SIGNAL ? "cmd signal" : "cmd wait",
			       &cmd->name2) < 0 ||
		    parse_keys(c, first + 4, KEYS(value_keys), "cmd", cmd, false, seen) < 0 ||
		    need_key(c, seen, K_VALUE, "value=N", cmd->op == SCN_OP_SIGNAL ? "cmd signal" : "cmd wait") < 0)
			return -1;
		return 0;
	case SCN_OP_RESET:
		return end_of_line(c, first + 3);
	case SCN_OP_RAW: {
		/* Dwords as they are, well formed or not: what a driver under test
		 * might write, for the kernel and the device to judge. */
		size_t n = c->nw - (first + 3);
		if (!n)
			return fail(c, c->endcol, "expected at least one dword after cmd %s raw, found end of line",
				    cmd->name);
		if (n > SCN_MAX_RAW_DWORDS)
			return fail(c, c->w[first + 3 + SCN_MAX_RAW_DWORDS].col,
				    "expected at most %u dwords after cmd raw (a command buffer holds 64 KiB), found %zu",
				    SCN_MAX_RAW_DWORDS, n);
		cmd->raw = malloc(n * sizeof(*cmd->raw));
		if (!cmd->raw)
			return fail(c, c->w[first + 3].col, "out of memory");
		for (size_t j = 0; j < n; j++) {
			const struct word *wk = &c->w[first + 3 + j];
			uint64_t u;
			if (strchr(wk->s, '='))
				return fail(c, wk->col, "expected a dword after cmd raw, found '%s'", Q(wk->s));
			if (parse_u64(c, wk->s, wk->col, "a dword of cmd raw", true, &u) < 0)
				return -1;
			if (u > UINT32_MAX)
				return fail(c, wk->col, "expected a 32-bit dword for cmd raw, found '%s'", Q(wk->s));
			cmd->raw[cmd->nraw++] = (uint32_t)u;
		}
		return 0;
	}
	}
	cmd->va_given = true;
	return 0;
}

/* Words [first, nw) of the current line are one command (the word `first` names it). */
static int parse_command(struct pctx *c, size_t first, struct scn_cmd *cmd)
{
	const struct word *w0 = &c->w[first];
	size_t seen[K_COUNT] = { 0 };
	size_t k = 0;

	while (k < sizeof commands / sizeof commands[0] && strcmp(commands[k].name, w0->s))
		k++;
	if (k == sizeof commands / sizeof commands[0])
		return fail(c, w0->col, "unknown command '%s' (expected one of: %s)",
			    quote((char[64]){ 0 }, 64, MAX_QUOTED_COMMAND, w0->s), command_list);
	cmd->kind = commands[k].kind;
	cmd->loc = (struct scn_loc){ c->file, c->lineno, w0->col };

	switch (cmd->kind) {
	case SCN_ADAPTER: {
		char why[256];
		gpusim_config_default(&cmd->config);
		if (parse_keys(c, first + 1, KEYS(adapter_keys), "adapter", cmd, false, seen) < 0)
			return -1;
		/* A snapshot brings its own configuration: nothing else may be said. */
		if (cmd->path)
			for (size_t ak = 0; ak < sizeof adapter_keys / sizeof adapter_keys[0]; ak++)
				if (adapter_keys[ak].id != K_FROM && seen[adapter_keys[ak].id])
					return fail(c, w0->col, "adapter from= takes the configuration "
						    "from the snapshot; %s cannot be given with it",
						    adapter_keys[ak].form);
		if (hw_config_validate(&cmd->config.hw, why, sizeof why))
			return fail(c, w0->col, "invalid adapter: %s", why);
		return 0;
	}
	case SCN_DEVICE:
		if (positional(c, first + 1, "a device", "device", &cmd->name) < 0)
			return -1;
		return end_of_line(c, first + 2);
	case SCN_ALLOC:
		if (positional(c, first + 1, "an allocation", "alloc", &cmd->name) < 0 ||
		    parse_keys(c, first + 2, KEYS(alloc_keys), "alloc", cmd, false, seen) < 0 ||
		    need_key(c, seen, K_SIZE, "size=SIZE", "alloc") < 0)
			return -1;
		if (cmd->shared && !cmd->resource)
			return fail(c, c->w[seen[K_SHARED] - 1].col,
				    "expected resource=R with shared, found no resource=");
		return prefer_within_only(c, cmd, seen);
	case SCN_FREE:
	case SCN_RESIDENT:
	case SCN_EVICT:
		if (cmd->kind == SCN_RESIDENT ? parse_keys(c, first + 1, KEYS(resident_keys), w0->s, cmd, true, seen) < 0
					      : parse_keys(c, first + 1, NULL, 0, w0->s, cmd, true, seen) < 0)
			return -1;
		if (!cmd->nnames)
			return fail(c, c->endcol, "expected an allocation name after %s, found end of line",
				    w0->s);
		return 0;
	case SCN_SUBMIT:
		return parse_keys(c, first + 1, KEYS(submit_keys), "submit", cmd, true, seen);
	case SCN_WRITE:
		if (positional(c, first + 1, "an allocation", w0->s, &cmd->name) < 0 ||
		    parse_keys(c, first + 2, KEYS(rw_keys), w0->s, cmd, false, seen) < 0)
			return -1;
		return need_key(c, seen, K_SEED, "seed=N", w0->s);
	case SCN_VERIFY:
		if (positional(c, first + 1, "an allocation", w0->s, &cmd->name) < 0 ||
		    parse_keys(c, first + 2, KEYS(verify_keys), w0->s, cmd, false, seen) < 0)
			return -1;
		if (seen[K_SEED] && seen[K_VALUE])
			return fail(c, c->w[seen[K_VALUE] - 1].col,
				    "expected seed=N or value=N for verify, found both");
		if (!seen[K_SEED] && !seen[K_VALUE])
			return fail(c, c->endcol, "expected seed=N for verify (or value=N), found end of line");
		return 0;
	case SCN_LOCK:
		if (positional(c, first + 1, "an allocation", "lock", &cmd->name) < 0)
			return -1;
		return parse_keys(c, first + 2, KEYS(lock_keys), "lock", cmd, false, seen);
	case SCN_UNLOCK:
		if (positional(c, first + 1, "an allocation", "unlock", &cmd->name) < 0)
			return -1;
		return end_of_line(c, first + 2);
	case SCN_GPU_FILL:
		if (positional(c, first + 1, "an allocation", "gpu-fill", &cmd->name) < 0 ||
		    parse_keys(c, first + 2, KEYS(fill_keys), "gpu-fill", cmd, false, seen) < 0)
			return -1;
		return need_key(c, seen, K_VALUE, "value=N", "gpu-fill");
	case SCN_GPU_COPY:
		if (positional(c, first + 1, "an allocation", "gpu-copy", &cmd->name) < 0 ||
		    positional(c, first + 2, "an allocation", "gpu-copy SRC", &cmd->name2) < 0)
			return -1;
		return end_of_line(c, first + 3);
	case SCN_PRIORITY:
		if (positional(c, first + 1, "an allocation", "priority", &cmd->name) < 0)
			return -1;
		if (first + 2 >= c->nw)
			return fail(c, c->endcol,
				    "expected a priority (minimum, low, normal, high, maximum or "
				    "1..0xFFFFFFFF), found end of line");
		if (parse_priority(c, c->w[first + 2].s, c->w[first + 2].col, &cmd->priority) < 0)
			return -1;
		return end_of_line(c, first + 3);
	case SCN_IDLE:
	case SCN_SHOW:
		return end_of_line(c, first + 1);
	case SCN_INJECT: {
		static const struct {
			const char *name;
			enum scn_inject inj;
		} kinds[] = { { "device-removed", SCN_INJ_DEVICE_REMOVED },
			      { "dma-error", SCN_INJ_DMA_ERROR },
			      { "sysmem-oom", SCN_INJ_SYSMEM_OOM } };
		if (first + 1 >= c->nw)
			return fail(c, c->endcol,
				    "expected device-removed, dma-error or sysmem-oom after inject, "
				    "found end of line");
		const struct word *wk = &c->w[first + 1];
		k = 0;
		while (k < 3 && strcmp(kinds[k].name, wk->s))
			k++;
		if (k == 3)
			return fail(c, wk->col,
				    "unknown inject kind '%s' (expected one of: device-removed, "
				    "dma-error, sysmem-oom)",
				    Q(wk->s));
		cmd->inject = kinds[k].inj;
		if (cmd->inject == SCN_INJ_SYSMEM_OOM)
			return parse_keys(c, first + 2, KEYS(oom_keys), "inject sysmem-oom", cmd, false,
					  seen);
		return end_of_line(c, first + 2);
	}
	case SCN_SNAPSHOT:
		if (first + 1 >= c->nw)
			return fail(c, c->endcol, "expected a file name after snapshot, found end of line");
		if (dup_name(c, c->w[first + 1].s, &cmd->path) < 0)
			return -1;
		return end_of_line(c, first + 2);
	case SCN_EXPECT_IN:
		return parse_expect(c, first, cmd);
	case SCN_IMAGE:
		cmd->machine = ELFIMG_ANY_MACHINE;
		if (positional(c, first + 1, "an image", "image", &cmd->name) < 0)
			return -1;
		if (first + 2 >= c->nw)
			return fail(c, c->endcol, "expected an ELF file name after image %s, found end of line",
				    cmd->name);
		/* The keys first: machine= decides how the file is read. */
		if (parse_keys(c, first + 3, KEYS(image_keys), "image", cmd, false, seen) < 0 ||
		    prefer_within_only(c, cmd, seen) < 0)
			return -1;
		return parse_image_file(c, &c->w[first + 2], cmd);
	case SCN_SUBMIT_IMAGE:
		if (positional(c, first + 1, "an image", "submit-image", &cmd->name) < 0)
			return -1;
		if (first + 2 < c->nw) {
			uint64_t seg;
			const struct word *ws = &c->w[first + 2];
			if (parse_u64(c, ws->s, ws->col, "the segment", true, &seg) < 0)
				return -1;
			if (seg >= ELFIMG_MAX_SEGMENTS)
				return fail(c, ws->col, "expected a segment number below %u, found '%s'",
					    ELFIMG_MAX_SEGMENTS, Q(ws->s));
			cmd->segment = (uint32_t)seg;
			cmd->segment_given = true;
		}
		return end_of_line(c, first + 3);
	case SCN_PAGINGQUEUE:
	case SCN_VCONTEXT:
		if (positional(c, first + 1, cmd->kind == SCN_VCONTEXT ? "a context" : "a paging queue", w0->s,
			       &cmd->name) < 0)
			return -1;
		return parse_keys(c, first + 2, KEYS(submit_keys), w0->s, cmd, false, seen);
	case SCN_WAIT_PAGING:
		if (positional(c, first + 1, "a paging queue", w0->s, &cmd->name) < 0)
			return -1;
		return end_of_line(c, first + 2);
	case SCN_RESERVE:
		if (positional(c, first + 1, "a VA", w0->s, &cmd->name) < 0 ||
		    parse_keys(c, first + 2, KEYS(reserve_keys), w0->s, cmd, false, seen) < 0)
			return -1;
		if (seen[K_BASE] && (seen[K_MIN] || seen[K_MAX]))
			return fail(c, c->w[(seen[K_MIN] ? seen[K_MIN] : seen[K_MAX]) - 1].col,
				    "expected base= or min=/max= for reserve, found both");
		return need_key(c, seen, K_SIZE, "size=SIZE", w0->s);
	case SCN_MAP:
		if (positional(c, first + 1, "a VA", w0->s, &cmd->name) < 0 ||
		    positional(c, first + 2, "an allocation", "map V", &cmd->name2) < 0)
			return -1;
		return parse_keys(c, first + 3, KEYS(map_keys), w0->s, cmd, false, seen);
	case SCN_UNMAP:
	case SCN_FREE_VA:
		if (positional(c, first + 1, "a VA", w0->s, &cmd->name) < 0)
			return -1;
		return end_of_line(c, first + 2);
	case SCN_FENCE:
		if (positional(c, first + 1, "a fence", w0->s, &cmd->name) < 0)
			return -1;
		return parse_keys(c, first + 2, KEYS(fence_keys), w0->s, cmd, false, seen);
	case SCN_SIGNAL:
	case SCN_WAIT:
		if (positional(c, first + 1, "a fence", w0->s, &cmd->name) < 0 ||
		    parse_keys(c, first + 2, KEYS(value_keys), w0->s, cmd, false, seen) < 0)
			return -1;
		return need_key(c, seen, K_VALUE, "value=N", w0->s);
	case SCN_GPU_SIGNAL:
	case SCN_GPU_WAIT:
		if (positional(c, first + 1, "a context", w0->s, &cmd->name) < 0 ||
		    positional(c, first + 2, "a fence", w0->s, &cmd->name2) < 0 ||
		    parse_keys(c, first + 3, KEYS(value_keys), w0->s, cmd, false, seen) < 0)
			return -1;
		return need_key(c, seen, K_VALUE, "value=N", w0->s);
	case SCN_CMDBUF:
		cmd->size = 4096;
		if (positional(c, first + 1, "a command buffer", w0->s, &cmd->name) < 0 ||
		    parse_keys(c, first + 2, KEYS(cmdbuf_keys), w0->s, cmd, false, seen) < 0)
			return -1;
		if (!cmd->size || cmd->size > (64u << 10) || cmd->size % 4)
			return fail(c, c->w[seen[K_SIZE] - 1].col,
				    "expected a size of 4 bytes to 64K, a multiple of 4, for cmdbuf, found '%s'",
				    Q(c->w[seen[K_SIZE] - 1].s));
		return 0;
	case SCN_CMD:
		return parse_cmd_packet(c, first, cmd, seen);
	case SCN_SUBMIT_COMMAND:
		if (positional(c, first + 1, "a context", w0->s, &cmd->name) < 0 ||
		    positional(c, first + 2, "a command buffer", "submit-command C", &cmd->name2) < 0)
			return -1;
		return end_of_line(c, first + 3);
	case SCN_EXPECT_FENCE:
	case SCN_EXPECT_VA:
	case SCN_EXPECT_FAULT:
	case SCN_ECHO:  /* the expander handles echo before words are split */
	case SCN_EXPECT_STAT:
	case SCN_EXPECT_STATUS:
		break;
	}
	return fail(c, w0->col, "internal error: command '%s'", Q(w0->s));
}

static void scn_cmd_clear(struct scn_cmd *cmd)
{
	free(cmd->name);
	free(cmd->name2);
	free(cmd->device);
	for (uint32_t i = 0; i < cmd->nnames; i++)
		free(cmd->names[i]);
	free(cmd->names);
	free(cmd->resource);
	free(cmd->path);
	free(cmd->text);
	free(cmd->stat_key);
	free(cmd->status_name);
	free(cmd->queue);
	free(cmd->va.name);
	free(cmd->va2.name);
	free(cmd->raw);
	if (cmd->inner) {
		scn_cmd_clear(cmd->inner);
		free(cmd->inner);
	}
	memset(cmd, 0, sizeof *cmd);
}

static int push_cmd(struct pctx *c, struct scn_cmd *cmd)
{
	struct scn_script *s = c->out;

	if (s->ncmds == c->cmdcap) {
		size_t ncap = c->cmdcap ? c->cmdcap * 2 : 64;
		if (ncap > c->max_cmds)
			ncap = (size_t)c->max_cmds;
		struct scn_cmd *nc = ncap > c->cmdcap ? realloc(s->cmds, ncap * sizeof *nc) : NULL;
		if (!nc) {
			scn_cmd_clear(cmd);
			return fail(c, cmd->loc.col, "out of memory");
		}
		s->cmds = nc;
		c->cmdcap = ncap;
	}
	s->cmds[s->ncmds++] = *cmd;
	return 0;
}

/* ---- include and repeat ----------------------------------------------------- */

static size_t word_len(const char *s)
{
	size_t n = 0;
	while (s[n] && !is_blank(s[n]))
		n++;
	return n;
}

static const char *skip_blanks(const char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

/* The first word of a line as written, compared before $i is substituted. */
static bool first_word_is(const char *text, const char *word)
{
	const char *s = skip_blanks(text);
	size_t n = word_len(s);
	return n == strlen(word) && !memcmp(s, word, n);
}

static bool opens_block(const char *text)
{
	size_t len = strlen(text);
	return first_word_is(text, "repeat") && len && text[len - 1] == '{' &&
	       (len == 1 || is_blank(text[len - 2]));
}

/* Find the '}' of the repeat at line index i and count what one iteration holds. */
static int find_match(struct pctx *c, struct sfile *f, size_t i)
{
	struct sline *ln = &f->lines[i];
	uint32_t depth = 0, cmds = 0, lines = 0;
	uint64_t bytes = 0;

	if (ln->match)
		return 0;
	for (size_t j = i + 1; j < f->nlines; j++) {
		const char *t = f->lines[j].text;
		if (first_word_is(t, "}")) {
			if (depth == 0) {
				ln->match = (uint32_t)j;
				ln->body_cmds = cmds;
				ln->body_lines = lines;
				ln->body_bytes = bytes;
				return 0;
			}
			depth--;
		} else if (opens_block(t)) {
			if (depth == 0) {
				lines++;
				bytes += strlen(t);
			}
			depth++;
		} else if (depth == 0) {
			lines++;
			bytes += strlen(t);
			if (!first_word_is(t, "include"))
				cmds++;
		}
	}
	const char *s = skip_blanks(ln->text);
	return fail_at(c, f->display, ln->lineno, (uint32_t)(s - ln->text) + 1,
		       "expected '}' to close this repeat, found end of file");
}

static int charge(struct pctx *c, bool command, uint32_t col)
{
	if (++c->work > c->max_work)
		return fail(c, col, "expected at most %llu lines after expanding repeat and include, "
			    "found more", (unsigned long long)c->max_work);
	if (command && c->out->ncmds >= c->max_cmds)
		return fail(c, col, "expected at most %llu commands after expanding repeat and include, "
			    "found more", (unsigned long long)c->max_cmds);
	c->bytes += c->len;
	if (c->bytes > c->max_bytes)
		return fail(c, col, "expected at most %llu bytes of text after expanding repeat and "
			    "include, found more", (unsigned long long)c->max_bytes);
	return 0;
}

static int expand(struct pctx *c, struct sfile *f, size_t begin, size_t end,
		  const struct loopvar *lv);

static int do_repeat(struct pctx *c, struct sfile *f, size_t *i)
{
	struct word *w = c->w;
	uint64_t count;

	if (charge(c, false, w[0].col) < 0)
		return -1;
	if (c->nw < 2)
		return fail(c, c->endcol, "expected a repeat count, found end of line");
	if (!strcmp(w[1].s, "{"))
		return fail(c, w[1].col, "expected a repeat count, found '{'");
	if (parse_u64(c, w[1].s, w[1].col, "the repeat count", true, &count) < 0)
		return -1;
	if (c->nw < 3)
		return fail(c, c->endcol, "expected '{' after the repeat count, found end of line");
	if (strcmp(w[2].s, "{"))
		return fail(c, w[2].col, "expected '{' after the repeat count, found '%s'", Q(w[2].s));
	if (c->nw > 3)
		return fail(c, w[3].col, "expected end of line after '{', found '%s'", Q(w[3].s));
	if (c->repeat_depth >= MAX_REPEAT_DEPTH)
		return fail(c, w[0].col, "expected repeat nested at most %d deep, found deeper",
			    MAX_REPEAT_DEPTH);
	if (find_match(c, f, *i) < 0)
		return -1;

	struct sline *ln = &f->lines[*i];
	const struct sline *close = &f->lines[ln->match];
	const char *t = skip_blanks(close->text) + 1;
	t = skip_blanks(t);
	if (*t) {
		c->lineno = close->lineno;
		return fail(c, (uint32_t)(t - close->text) + 1, "expected end of line after '}', found '%s'",
			    Q(t));
	}
	/* Refuse before expanding: a huge count must not cost memory or time. */
	uint64_t room_cmds = c->max_cmds - c->out->ncmds, room_work = c->max_work - c->work;
	uint64_t room_bytes = c->max_bytes - c->bytes;
	if (ln->body_cmds && count > room_cmds / ln->body_cmds)
		return fail(c, w[1].col,
			    "expected at most %llu commands after expanding repeat and include, "
			    "found more (repeat %s)",
			    (unsigned long long)c->max_cmds, Q(w[1].s));
	if (ln->body_lines && count > room_work / ln->body_lines)
		return fail(c, w[1].col,
			    "expected at most %llu lines after expanding repeat and include, "
			    "found more (repeat %s)",
			    (unsigned long long)c->max_work, Q(w[1].s));
	if (ln->body_bytes && count > room_bytes / ln->body_bytes)
		return fail(c, w[1].col,
			    "expected at most %llu bytes of text after expanding repeat and include, "
			    "found more (repeat %s)",
			    (unsigned long long)c->max_bytes, Q(w[1].s));
	size_t body = *i + 1, close_i = ln->match;
	c->repeat_depth++;
	for (uint64_t it = 0; ln->body_lines && it < count; it++) {
		struct loopvar inner = { it };
		if (expand(c, f, body, close_i, &inner) < 0)
			return -1;
	}
	c->repeat_depth--;
	*i = close_i;
	return 0;
}

/* An include must resolve (symbolic links and all) to a file under the top-level
 * scenario's directory, unless the parse allows otherwise: a scenario from
 * somewhere else must not pull in files from anywhere the user can read. */
static int check_inside(struct pctx *c, const char *word, const char *key, uint32_t col)
{
	if (c->allow_outside)
		return 0;
	if (!c->root) {
		c->root = realpath(c->top_dir, NULL);
		if (!c->root)
			return fail(c, col, "cannot include '%s': the scenario's directory '%s' cannot be "
				    "resolved: %s", Q(word), QPATH(c->top_dir), strerror(errno));
	}
	size_t rl = strlen(c->root);
	/* The directory itself is not outside: reading it says what is wrong with it. */
	if (!strcmp(c->root, "/") || (!strncmp(key, c->root, rl) && (key[rl] == '/' || !key[rl])))
		return 0;
	return fail(c, col, "cannot include '%s': it resolves to '%s', outside the scenario's "
		    "directory '%s' (--allow-include-outside permits it)",
		    Q(word), QPATH(key), QPATH(c->root));
}

static int do_include(struct pctx *c, struct sfile *f, const struct loopvar *lv)
{
	struct word *w = c->w;
	char *path, *key;
	uint32_t col, lineno = c->lineno;

	if (charge(c, false, w[0].col) < 0)
		return -1;
	if (c->nw < 2)
		return fail(c, c->endcol, "expected a file name after include, found end of line");
	if (end_of_line(c, 2) < 0)
		return -1;
	col = w[1].col;
	/* Relative to the including file's directory, as the user named it. */
	const char *slash = strrchr(f->display, '/');
	if (w[1].s[0] == '/' || !slash) {
		path = strdup(w[1].s);
	} else {
		size_t dl = (size_t)(slash - f->display) + 1, pl = strlen(w[1].s);
		path = malloc(dl + pl + 1);
		if (path) {
			memcpy(path, f->display, dl);
			memcpy(path + dl, w[1].s, pl + 1);
		}
	}
	if (!path)
		return fail(c, col, "out of memory");
	if (c->depth > SCN_MAX_INCLUDE_DEPTH) {
		free(path);
		return fail(c, col, "expected include nested at most %d deep, found deeper",
			    SCN_MAX_INCLUDE_DEPTH);
	}
	key = realpath(path, NULL);
	if (!key) {
		int rc = fail(c, col, "cannot open '%s': %s", Q(path), strerror(errno));
		free(path);
		return rc;
	}
	if (check_inside(c, w[1].s, key, col) < 0) {
		free(key);
		free(path);
		return -1;
	}
	for (unsigned d = 0; d < c->depth; d++) {
		if (strcmp(c->stack[d]->key, key))
			continue;
		char chain[400];
		size_t o = 0;
		for (unsigned e = d; e < c->depth && o < sizeof chain; e++)
			o += (size_t)snprintf(chain + o, sizeof chain - o, "%s -> ", c->stack[e]->display);
		if (o < sizeof chain)
			snprintf(chain + o, sizeof chain - o, "%s", c->stack[d]->display);
		free(key);
		free(path);
		return fail(c, col, "include cycle: %s", chain);
	}
	struct sfile *g = NULL;
	for (size_t k = 0; k < c->ncache && !g; k++)
		if (!strcmp(c->cache[k]->key, key))
			g = c->cache[k];
	if (g) {
		free(key);
		free(path);
	} else {
		char *buf;
		size_t len;
		/* The file that was checked, not the name again: `key` has no symbolic
		 * link left in it, and O_NOFOLLOW refuses one put in its place since. */
		int rc = read_file(key, O_NOFOLLOW, false, &buf, &len);
		if (rc) {
			rc = fail(c, col, "cannot open '%s': %s", Q(path), read_error(rc));
			free(key);
			free(path);
			return rc;
		}
		if (add_file(c, key, path, buf, len, &g) < 0)
			return -1;
		g->included = true;
	}
	c->stack[c->depth++] = g;
	int rc = expand(c, g, 0, g->nlines, lv);
	c->depth--;
	c->file = f->display;
	c->lineno = lineno;
	return rc;
}

static int do_echo(struct pctx *c, const char *rest)
{
	struct scn_cmd cmd = { .kind = SCN_ECHO };
	const char *s = skip_blanks(c->buf);

	cmd.loc = (struct scn_loc){ c->file, c->lineno, c->colmap[s - c->buf] };
	if (charge(c, true, cmd.loc.col) < 0)
		return -1;
	cmd.text = strdup(skip_blanks(rest));
	if (!cmd.text)
		return fail(c, cmd.loc.col, "out of memory");
	return push_cmd(c, &cmd);
}

static int expand(struct pctx *c, struct sfile *f, size_t begin, size_t end,
		  const struct loopvar *lv)
{
	for (size_t i = begin; i < end; i++) {
		c->file = f->display;
		if (prepare(c, &f->lines[i], lv) < 0)
			return -1;
		const char *s = skip_blanks(c->buf);
		if (word_len(s) == 4 && !memcmp(s, "echo", 4)) {
			f->is_scenario = true;
			if (do_echo(c, s + 4) < 0)
				return -1;
			continue;
		}
		if (tokenize(c) < 0)
			return -1;
		const char *w0 = c->w[0].s;
		if (!f->is_scenario) {
			if (f->included && !is_command_word(w0))
				return fail(c, c->w[0].col, "expected a command, found a line that is not one "
					    "at the start of an included file (its text is not shown: is it a "
					    "scenario?)");
			f->is_scenario = true;
		}
		if (!strcmp(w0, "}")) {
			return fail(c, c->w[0].col, "expected a command, found '}' with no repeat open");
		} else if (!strcmp(w0, "repeat")) {
			if (do_repeat(c, f, &i) < 0)
				return -1;
		} else if (!strcmp(w0, "include")) {
			if (do_include(c, f, lv) < 0)
				return -1;
		} else {
			struct scn_cmd cmd;
			memset(&cmd, 0, sizeof cmd);
			if (charge(c, true, c->w[0].col) < 0)
				return -1;
			if (parse_command(c, 0, &cmd) < 0) {
				scn_cmd_clear(&cmd);
				return -1;
			}
			if (push_cmd(c, &cmd) < 0)
				return -1;
		}
	}
	return 0;
}

/* ---- entry points ----------------------------------------------------------- */

/* The directory a top-level scenario named `name` sits in, as named: includes are
 * relative to it and must stay under it. */
static char *dir_of(const char *name)
{
	const char *slash = strrchr(name, '/');
	if (!slash)
		return strdup(".");
	if (slash == name)
		return strdup("/");
	return strndup(name, (size_t)(slash - name));
}

static int parse_top(const char *name, char *buf, size_t len, int read_rc,
		     const struct scn_parse_options *opts, struct scn_script *out,
		     struct scn_error *err)
{
	struct scn_error dummy;
	struct pctx c;
	struct sfile *f = NULL;
	int rc = -1;

	memset(&c, 0, sizeof c);
	c.err = err ? err : &dummy;
	memset(c.err, 0, sizeof *c.err);
	if (!out) {
		free(buf);
		return fail_at(&c, name, 0, 0, "no script to parse into");
	}
	memset(out, 0, sizeof *out);
	c.out = out;
	c.max_cmds = max_commands;
	c.max_work = (uint64_t)max_commands * WORK_PER_COMMAND;
	c.max_bytes = (uint64_t)max_commands * BYTES_PER_COMMAND;
	c.allow_outside = opts && opts->allow_include_outside;
	if (read_rc) {
		free(buf);
		return fail_at(&c, name, 0, 0, "cannot open '%s': %s%s", Q(name), read_error(read_rc),
			       read_rc == -ENOTREGULAR ? " (give - to read the scenario from standard input)"
							: "");
	}
	char *display = strdup(name);
	char *key = realpath(name, NULL);
	if (!key)
		key = strdup(name);
	c.top_dir = dir_of(name);
	if (!display || !key || !c.top_dir) {
		free(display);
		free(key);
		free(buf);
		fail_at(&c, name, 0, 0, "out of memory");
		goto done;
	}
	if (add_file(&c, key, display, buf, len, &f) < 0)
		goto done;
	c.stack[c.depth++] = f;
	rc = expand(&c, f, 0, f->nlines, NULL);
done:
	for (size_t i = 0; i < c.ncache; i++)
		sfile_free(c.cache[i]);
	free(c.cache);
	free(c.buf);
	free(c.colmap);
	free(c.w);
	free(c.top_dir);
	free(c.root);
	if (rc < 0) {
		scn_script_free(out);
		return -1;
	}
	if (out->ncmds && out->ncmds < c.cmdcap) {  /* give back what doubling left over */
		struct scn_cmd *shrunk = realloc(out->cmds, out->ncmds * sizeof *shrunk);
		if (shrunk)
			out->cmds = shrunk;
	}
	return 0;
}

int scn_parse_file_opts(const char *path, const struct scn_parse_options *opts,
			struct scn_script *out, struct scn_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (!path)
		path = "";
	if (!strcmp(path, "-")) {
		rc = read_stdin(&buf, &len);
		return parse_top(SCN_STDIN_NAME, buf, len, rc, opts, out, err);
	}
	rc = read_file(path, 0, true, &buf, &len);
	return parse_top(path, buf, len, rc, opts, out, err);
}

int scn_parse_file(const char *path, struct scn_script *out, struct scn_error *err)
{
	return scn_parse_file_opts(path, NULL, out, err);
}

int scn_parse_string_opts(const char *name, const char *text, size_t len,
			  const struct scn_parse_options *opts, struct scn_script *out,
			  struct scn_error *err)
{
	char *buf;

	if (!name)
		name = "<string>";
	if (!text)
		len = 0;
	if (len > MAX_FILE_BYTES)
		return parse_top(name, NULL, 0, -EFBIG, opts, out, err);
	buf = malloc(len + 1);
	if (buf) {
		if (len)
			memcpy(buf, text, len);
		buf[len] = '\0';
	}
	return parse_top(name, buf, len, buf ? 0 : -ENOMEM, opts, out, err);
}

int scn_parse_string(const char *name, const char *text, size_t len, struct scn_script *out,
		     struct scn_error *err)
{
	return scn_parse_string_opts(name, text, len, NULL, out, err);
}

void scn_script_free(struct scn_script *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ncmds; i++)
		scn_cmd_clear(&s->cmds[i]);
	free(s->cmds);
	for (size_t i = 0; i < s->nimages; i++) {
		free(s->images[i].key);
		elfimg_free(s->images[i].img);
	}
	free(s->images);
	for (size_t i = 0; i < s->nfiles; i++)
		free(s->files[i]);
	free(s->files);
	memset(s, 0, sizeof *s);
}

void scn_print_error(FILE *f, const char *path, const struct scn_error *err)
{
	fprintf(f, "%s:%" PRIu32 ":%" PRIu32 ": error: %s\n", err->file[0] ? err->file : path, err->line,
		err->col, err->msg);
}
