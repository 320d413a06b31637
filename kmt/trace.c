/*
 * Trace files (<gpusim/trace.h>): the buffered writer, the recorder that a listener
 * feeds (gpusim_trace_attach, and GPUSIM_TRACE through kmt_adapter_create), and the
 * reader that checks every record and can follow a file while it is being written.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <gpusim/trace.h>

#include "kmt/core.h"

#define HEADER_BYTES 16
#define RECORD_HEADER_BYTES 8
/* The adapter record holds seg_size[] for ids 0 .. n - 1: n = GPUSIM_SEG_MAX + 1
 * since version 2, GPUSIM_SEG_COUNT + 1 in version 1 (before the second pool). */
#define ADAPTER_NSEG (GPUSIM_SEG_MAX + 1)
#define ADAPTER_NSEG_V1 (GPUSIM_SEG_COUNT + 1)
#define ADAPTER_RECORD_BYTES(nseg) (4 * 8 + (nseg) * 8 + 2 * 8 + 16)
#define ADAPTER_BYTES ADAPTER_RECORD_BYTES(ADAPTER_NSEG)
#define EVENT_BYTES 64
#define NAME_MIN_BYTES (8 + 1)
#define NAME_MAX_BYTES (8 + 255)
#define WRITE_BUFFER (64 * 1024)
#define READ_BUFFER (64 * 1024)
/* A follower sees buffered records at most this long after they were written. */
#define FLUSH_INTERVAL_NS 50000000ull

/* The payloads are written field by field in the order of the structs, so the
 * format does not depend on the host's byte order or padding; a field added to
 * either struct must come with a new format version. */
_Static_assert(sizeof(struct gpusim_event) == EVENT_BYTES, "struct gpusim_event changed: bump the trace version");
_Static_assert(sizeof(struct gpusim_trace_adapter) == ADAPTER_BYTES,
	       "struct gpusim_trace_adapter changed: bump the trace version");

static unsigned char *put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
	return p + 4;
}

static unsigned char *put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	return put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void encode_adapter(unsigned char *p, const struct gpusim_trace_adapter *ad)
{
	p = put64(p, ad->vram);
	p = put64(p, ad->visible);
	p = put64(p, ad->gart);
	p = put64(p, ad->sysmem);
	for (int s = 0; s < ADAPTER_NSEG; s++)
		p = put64(p, ad->seg_size[s]);
	p = put64(p, ad->budget_local);
	p = put64(p, ad->budget_nonlocal);
	memcpy(p, ad->policy, sizeof(ad->policy));
}

/* `nseg` sizes as the file's version has them; the ids it has no slot for read 0
 * (a segment the adapter lacks, as far as a reader can tell). */
static void decode_adapter(const unsigned char *p, int nseg, struct gpusim_trace_adapter *ad)
{
	memset(ad, 0, sizeof(*ad));
	ad->vram = get64(p);
	ad->visible = get64(p + 8);
	ad->gart = get64(p + 16);
	ad->sysmem = get64(p + 24);
	p += 32;
	for (int s = 0; s < nseg; s++, p += 8)
		ad->seg_size[s] = get64(p);
	ad->budget_local = get64(p);
	ad->budget_nonlocal = get64(p + 8);
	memcpy(ad->policy, p + 16, sizeof(ad->policy));
	ad->policy[sizeof(ad->policy) - 1] = '\0';
}

static void encode_event(unsigned char *p, const struct gpusim_event *ev)
{
	p = put32(p, ev->type);
	p = put32(p, ev->cause);
	p = put64(p, ev->time_ns);
	p = put32(p, ev->device);
	p = put32(p, ev->allocation);
	p = put32(p, ev->segment);
	p = put32(p, ev->from_segment);
	p = put64(p, ev->offset);
	p = put64(p, ev->size);
	p = put64(p, ev->value);
	p = put32(p, ev->priority);
	put32(p, ev->preferred);
}

static void decode_event(const unsigned char *p, struct gpusim_event *ev)
{
	ev->type = get32(p);
	ev->cause = get32(p + 4);
	ev->time_ns = get64(p + 8);
	ev->device = get32(p + 16);
	ev->allocation = get32(p + 20);
	ev->segment = get32(p + 24);
	ev->from_segment = get32(p + 28);
	ev->offset = get64(p + 32);
	ev->size = get64(p + 40);
	ev->value = get64(p + 48);
	ev->priority = get32(p + 56);
	ev->preferred = get32(p + 60);
}

/* ---- CRC-32 ------------------------------------------------------------------------
 * The writer computes zlib's CRC-32 (polynomial 0xedb88320, as crc32(0, p, n)) eight
 * bytes at a time: zlib's own crc32 takes ~150 ns for a 64-byte record, most of what
 * recording an event costs, and the recorder runs in every listening client's API
 * calls. The reader checks with zlib's crc32 itself, so the two can never drift. */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[0][n] = c;
	}
	for (uint32_t n = 0; n < 256; n++)
		for (int k = 1; k < 8; k++)
			crc_table[k][n] = (crc_table[k - 1][n] >> 8) ^ crc_table[0][crc_table[k - 1][n] & 0xff];
}

static uint32_t crc32_fast(const unsigned char *p, size_t len)
{
	uint32_t c = 0xffffffffu;
	for (; len >= 8; p += 8, len -= 8) {
		uint32_t lo = c ^ get32(p), hi = get32(p + 4);
		c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^ crc_table[5][(lo >> 16) & 0xff] ^
		    crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		    crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
	}
	while (len--)
		c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

/* ---- the writer ----------------------------------------------------------------- */

struct gpusim_trace_writer {
	int fd;               /* -1 once closed in a forked child */
	int err;              /* errno of the first failed write: nothing more is written */
	size_t len;
	uint64_t last_flush_ns;
	unsigned char buf[WRITE_BUFFER];
};

/* Wall-clock time decides only when bytes reach the file, never what they are:
 * the simulated time in the events stays deterministic. */
static uint64_t wall_ns(void)
{
	struct timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
	/* The same clock read from the last tick: a few ns instead of tens, per
	 * record, and ticks are far finer than the 50 ms that matter here. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
	clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int push(struct gpusim_trace_writer *w)
{
	size_t done = 0;
	while (done < w->len) {
		ssize_t n = write(w->fd, w->buf + done, w->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->err = n < 0 ? errno : EIO;
			w->len = 0;
			errno = w->err;
			return -1;
		}
		done += (size_t)n;
	}
	w->len = 0;
	return 0;
}

int gpusim_trace_flush(struct gpusim_trace_writer *w)
{
	if (!w) {
		errno = EINVAL;
		return -1;
	}
	if (w->err || w->fd < 0) {
		errno = w->err ? w->err : EBADF;
		return -1;
	}
	w->last_flush_ns = wall_ns();
	return push(w);
}

/* Room for a record of `payload` bytes: its header is filled in and the payload's
 * place returned; the caller writes the payload and calls seal(). */
static unsigned char *reserve(struct gpusim_trace_writer *w, uint32_t type, size_t payload)
{
	if (w->err || w->fd < 0) {
		errno = w->err ? w->err : EBADF;
		return NULL;
	}
	if (w->len + RECORD_HEADER_BYTES + payload > sizeof(w->buf) && push(w))
		return NULL;
	unsigned char *p = w->buf + w->len;
	p[0] = (unsigned char)type;
	p[1] = 0;
	p[2] = (unsigned char)payload;
	p[3] = (unsigned char)(payload >> 8);
	return p + RECORD_HEADER_BYTES;
}

static int seal(struct gpusim_trace_writer *w, unsigned char *payload, size_t len)
{
	put32(payload - 4, crc32_fast(payload, len));
	w->len += RECORD_HEADER_BYTES + len;
	if (wall_ns() - w->last_flush_ns > FLUSH_INTERVAL_NS)
		return gpusim_trace_flush(w);
	return 0;
}

struct gpusim_trace_writer *gpusim_trace_create(const char *path, const struct gpusim_trace_adapter *ad)
{
	if (!path || !ad) {
		errno = EINVAL;
		return NULL;
	}
	pthread_once(&crc_once, crc_init); /* every writer starts here */
	struct gpusim_trace_writer *w = malloc(sizeof(*w));
	if (!w)
		return NULL;
	w->err = 0;
	w->len = 0;
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		int e = errno;
		free(w);
		errno = e;
		return NULL;
	}
	memcpy(w->buf, GPUSIM_TRACE_MAGIC, 8);
	put32(w->buf + 8, GPUSIM_TRACE_VERSION);
	put32(w->buf + 12, 0);
	w->len = HEADER_BYTES;
	unsigned char *p = reserve(w, GPUSIM_TRACE_ADAPTER, ADAPTER_BYTES);
	encode_adapter(p, ad);
	put32(p - 4, crc32_fast(p, ADAPTER_BYTES));
	w->len += RECORD_HEADER_BYTES + ADAPTER_BYTES;
	/* A follower may open the file at once: the header is there from the start. */
	if (gpusim_trace_flush(w)) {
		int e = errno;
		close(w->fd);
		free(w);
		errno = e;
		return NULL;
	}
	return w;
}

int gpusim_trace_event(struct gpusim_trace_writer *w, const struct gpusim_event *ev)
{
	if (!w || !ev) {
		errno = EINVAL;
		return -1;
	}
	unsigned char *p = reserve(w, GPUSIM_TRACE_EVENT, EVENT_BYTES);
	if (!p)
		return -1;
	encode_event(p, ev);
	return seal(w, p, EVENT_BYTES);
}

int gpusim_trace_name(struct gpusim_trace_writer *w, uint32_t allocation, uint32_t device, const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (!w || !n) {
		errno = EINVAL;
		return -1;
	}
	if (n > NAME_MAX_BYTES - 8)
		n = NAME_MAX_BYTES - 8; /* a label: its first 255 bytes are enough */
	unsigned char *p = reserve(w, GPUSIM_TRACE_NAME, 8 + n);
	if (!p)
		return -1;
	put32(p, allocation);
	put32(p + 4, device);
	memcpy(p + 8, name, n);
	return seal(w, p, 8 + n);
}

int gpusim_trace_close(struct gpusim_trace_writer *w)
{
	if (!w)
		return 0;
	int rc = 0, e = 0;
	if (w->fd >= 0) {
		if (gpusim_trace_flush(w))
			e = errno;
		if (close(w->fd) && !e)
			e = errno;
	}
	if (!e && w->err)
		e = w->err;
	free(w);
	if (e) {
		errno = e;
		rc = -1;
	}
	return rc;
}

/* ---- describing an adapter --------------------------------------------------------- */

static void describe_locked(struct kmt_adapter *ad, struct gpusim_trace_adapter *out)
{
	memset(out, 0, sizeof(*out));
	out->vram = ad->cfg.hw.vram;
	out->visible = ad->cfg.hw.visible;
	out->gart = ad->cfg.hw.gart;
	out->sysmem = ad->cfg.hw.sysmem;
	/* Usable sizes as gpusim_get_stats reports them: the driver's own structures
	 * (GART table, rings, paging window) are not in them. */
	for (uint32_t s = 1; s <= GPUSIM_SEG_MAX; s++) {
		if (!gpusim_trace_is_segment(s) || !ad->mm->seg[s].present)
			continue;
		struct vidmm_suballoc_stats ss;
		vidmm_suballoc_get_stats(ad->mm->seg[s].sa, &ss);
		out->seg_size[s] = ss.size;
	}
	out->budget_local = ad->mm->budget_local;
	out->budget_nonlocal = ad->mm->budget_nonlocal;
	memcpy(out->policy, ad->cfg.policy, sizeof(out->policy));
	out->policy[sizeof(out->policy) - 1] = '\0';
}

NTSTATUS gpusim_trace_describe(LUID luid, struct gpusim_trace_adapter *out)
{
	if (!out)
		return STATUS_INVALID_PARAMETER;
	KMT_ENTER();
	struct kmt_adapter *ad = kmt_adapter_by_luid(luid);
	if (ad)
		describe_locked(ad, out);
	kmt_unlock();
	return ad ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
}

/* ---- the recorder: a listener that writes every event of one adapter ---------------- */

struct recorder {
	struct kmt_adapter *ad;
	struct gpusim_trace_writer *w;   /* NULL once closed at exit */
	struct recorder *next;
};

/* Touched only with the kmt lock held (listeners run under it), but for the fork
 * handler, which runs in the child alone. */
static struct recorder *recorders;
static bool hooks_installed;

/* Called with the kmt lock held: the writer only, never the API. A failed write
 * stops the writer (it keeps errno for gpusim_trace_close), not the client. */
static void record_event(void *opaque, const struct gpusim_event *ev)
{
	struct recorder *r = opaque;
	if (r->w)
		gpusim_trace_event(r->w, ev);
}

/* Adapters still alive at exit: their files get what is buffered. */
static void close_at_exit(void)
{
	/* exit() from inside a listener (a test's failed assertion, say): this
	 * thread holds the lock already. */
	bool held = kmt_in_listener();
	if (!held)
		kmt_lock();
	for (struct recorder *r = recorders; r; r = r->next) {
		gpusim_trace_close(r->w);
		r->w = NULL;
	}
	if (!held)
		kmt_unlock();
}

/* A forked child has the parent's buffer and file: writing either would put the
 * parent's records in the file twice. The child drops both and records nothing. */
static void forget_in_child(void)
{
	for (struct recorder *r = recorders; r; r = r->next)
		if (r->w && r->w->fd >= 0) {
			close(r->w->fd);
			r->w->fd = -1;
			r->w->len = 0;
		}
}

int kmt_trace_attach(struct kmt_adapter *ad, const char *path)
{
	if (!path || !*path)
		return -EINVAL;
	if (ad->nlisteners == KMT_MAX_LISTENERS)
		return -ENOMEM;
	if (!hooks_installed) {
		if (atexit(close_at_exit) || pthread_atfork(NULL, NULL, forget_in_child))
			return -ENOMEM;
		hooks_installed = true;
	}
	struct recorder *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	struct gpusim_trace_adapter desc;
	describe_locked(ad, &desc);
	r->w = gpusim_trace_create(path, &desc);
	if (!r->w) {
		int e = errno;
		free(r);
		return -e;
	}
	r->ad = ad;
	int rc = kmt_adapter_listen(ad, record_event, r);
	if (rc) {
		gpusim_trace_close(r->w);
		free(r);
		return rc;
	}
	r->next = recorders;
	recorders = r;
	return 0;
}

void kmt_trace_adapter_gone(struct kmt_adapter *ad)
{
	for (struct recorder **pp = &recorders; *pp;) {
		struct recorder *r = *pp;
		if (r->ad != ad) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		/* Whatever the adapter still emits while it goes must not reach r. */
		for (uint32_t i = 0; i < ad->nlisteners; i++)
			if (ad->listeners[i].fn == record_event && ad->listeners[i].opaque == r) {
				memmove(&ad->listeners[i], &ad->listeners[i + 1],
					(ad->nlisteners - i - 1) * sizeof(ad->listeners[0]));
				ad->nlisteners--;
				break;
			}
		gpusim_trace_close(r->w);
		free(r);
	}
	vidmm_set_listener(ad->mm, ad->mm->emit, ad->mm->emit_ctx, ad->nlisteners > 0);
}

NTSTATUS gpusim_trace_attach(LUID luid, const char *path)
{
	if (!path || !*path)
		return STATUS_INVALID_PARAMETER;
	KMT_ENTER();
	struct kmt_adapter *ad = kmt_adapter_by_luid(luid);
	int rc = ad ? kmt_trace_attach(ad, path) : -EINVAL;
	kmt_unlock();
	if (!rc)
		return STATUS_SUCCESS;
	errno = -rc; /* why the file could not be made, for the caller's message */
	switch (rc) {
	case -EINVAL: return STATUS_INVALID_PARAMETER;
	case -ENOMEM: return STATUS_NO_MEMORY;
	case -EACCES:
	case -EPERM:
	case -EROFS: return STATUS_ACCESS_DENIED;
	default: return STATUS_UNSUCCESSFUL;
	}
}

/* ---- the reader ------------------------------------------------------------------ */

struct gpusim_trace_reader {
	int fd;
	char *path;
	uint64_t pos;             /* file offset of the next record */
	uint64_t base;            /* file offset of buf[0] */
	uint32_t version;         /* the file's: its adapter record's length follows it */
	size_t len;               /* bytes in buf */
	bool failed;              /* a corrupt record: every later call repeats msg */
	char msg[512];
	unsigned char buf[READ_BUFFER];
};

static void say(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Make bytes [pos, pos + need) present if the file has them; returns how many of
 * them are (fewer at the end of the file), or -1 on a read error. Reading again
 * after the end picks up what a writer appended since. */
static ssize_t fill(struct gpusim_trace_reader *r, size_t need)
{
	size_t have = (size_t)(r->base + r->len - r->pos);
	if (have >= need)
		return (ssize_t)have;
	memmove(r->buf, r->buf + (r->pos - r->base), have);
	r->base = r->pos;
	r->len = have;
	while (r->len < need) {
		ssize_t n = pread(r->fd, r->buf + r->len, sizeof(r->buf) - r->len, (off_t)(r->base + r->len));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		r->len += (size_t)n;
	}
	return (ssize_t)r->len;
}

static const char *record_name(uint32_t type)
{
	switch (type) {
	case GPUSIM_TRACE_ADAPTER: return "adapter";
	case GPUSIM_TRACE_EVENT: return "event";
	case GPUSIM_TRACE_NAME: return "name";
	}
	return "unknown";
}

/* Reads one record into *type and a pointer to its payload. 1, 0 (end of file or,
 * following, a record not yet complete) or -1 with r->msg set. */
static int read_record(struct gpusim_trace_reader *r, bool follow, uint32_t *type, const unsigned char **payload,
		       size_t *plen)
{
	ssize_t have = fill(r, RECORD_HEADER_BYTES);
	if (have < 0) {
		say(r->msg, sizeof(r->msg), "%s: read error at byte %llu: %s", r->path, (unsigned long long)r->pos,
		    strerror(errno));
		return -1;
	}
	if (have == 0)
		return 0;
	if (have < RECORD_HEADER_BYTES) {
		if (follow)
			return 0;
		say(r->msg, sizeof(r->msg), "%s: truncated at byte %llu (record header of %d bytes, %zd present)",
		    r->path, (unsigned long long)r->pos, RECORD_HEADER_BYTES, have);
		return -1;
	}
	const unsigned char *h = r->buf + (r->pos - r->base);
	uint32_t t = h[0];
	size_t len = (size_t)h[2] | (size_t)h[3] << 8;
	uint32_t crc = get32(h + 4);
	size_t min, max;
	switch (t) {
	case GPUSIM_TRACE_ADAPTER:
		min = max = ADAPTER_RECORD_BYTES(r->version == 1 ? ADAPTER_NSEG_V1 : ADAPTER_NSEG);
		break;
	case GPUSIM_TRACE_EVENT: min = max = EVENT_BYTES; break;
	case GPUSIM_TRACE_NAME: min = NAME_MIN_BYTES; max = NAME_MAX_BYTES; break;
	default:
		say(r->msg, sizeof(r->msg), "%s: corrupt record at byte %llu (unknown type %u)", r->path,
		    (unsigned long long)r->pos, t);
		return -1;
	}
	if (h[1]) {
		say(r->msg, sizeof(r->msg), "%s: corrupt record at byte %llu (reserved byte is %u, not 0)", r->path,
		    (unsigned long long)r->pos, h[1]);
		return -1;
	}
	if (len < min || len > max) {
		if (min == max)
			say(r->msg, sizeof(r->msg),
			    "%s: corrupt record at byte %llu (%s record of %zu bytes, expected %zu)", r->path,
			    (unsigned long long)r->pos, record_name(t), len, min);
		else
			say(r->msg, sizeof(r->msg),
			    "%s: corrupt record at byte %llu (%s record of %zu bytes, expected %zu to %zu)", r->path,
			    (unsigned long long)r->pos, record_name(t), len, min, max);
		return -1;
	}
	have = fill(r, RECORD_HEADER_BYTES + len);
	if (have < 0) {
		say(r->msg, sizeof(r->msg), "%s: read error at byte %llu: %s", r->path, (unsigned long long)r->pos,
		    strerror(errno));
		return -1;
	}
	if ((size_t)have < RECORD_HEADER_BYTES + len) {
		if (follow)
			return 0; /* the rest is still being written: read it all again next time */
		say(r->msg, sizeof(r->msg), "%s: truncated at byte %llu (record of %zu bytes, %zd present)", r->path,
		    (unsigned long long)r->pos, RECORD_HEADER_BYTES + len, have);
		return -1;
	}
	const unsigned char *p = r->buf + (r->pos - r->base) + RECORD_HEADER_BYTES;
	if ((uint32_t)crc32(0L, p, (uInt)len) != crc) {
		say(r->msg, sizeof(r->msg), "%s: corrupt record at byte %llu (CRC mismatch)", r->path,
		    (unsigned long long)r->pos);
		return -1;
	}
	*type = t;
	*payload = p;
	*plen = len;
	return 1;
}

void gpusim_trace_close_reader(struct gpusim_trace_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->path);
	free(r);
}

struct gpusim_trace_reader *gpusim_trace_open(const char *path, struct gpusim_trace_adapter *ad, char *err,
					      size_t errlen)
{
	if (!path || !ad) {
		say(err, errlen, "no trace file given");
		return NULL;
	}
	struct gpusim_trace_reader *r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path))) {
		free(r);
		say(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		say(err, errlen, "%s: %s", path, strerror(errno));
		gpusim_trace_close_reader(r);
		return NULL;
	}
	ssize_t have = fill(r, HEADER_BYTES);
	if (have < 0) {
		say(err, errlen, "%s: %s", path, strerror(errno));
		gpusim_trace_close_reader(r);
		return NULL;
	}
	/* A short file that starts like a trace is a cut one; anything else is not one. */
	size_t cmp = (size_t)have < 8 ? (size_t)have : 8;
	if (memcmp(r->buf, GPUSIM_TRACE_MAGIC, cmp)) {
		say(err, errlen, "%s: not a gpusim trace (bad magic)", path);
		gpusim_trace_close_reader(r);
		return NULL;
	}
	if (have < HEADER_BYTES) {
		say(err, errlen, "%s: truncated at byte 0 (header of %d bytes, %zd present)", path, HEADER_BYTES, have);
		gpusim_trace_close_reader(r);
		return NULL;
	}
	uint32_t version = get32(r->buf + 8);
	if (version < GPUSIM_TRACE_VERSION_OLDEST || version > GPUSIM_TRACE_VERSION) {
		say(err, errlen, "%s: trace version %u, expected %u to %u", path, version, GPUSIM_TRACE_VERSION_OLDEST,
		    GPUSIM_TRACE_VERSION);
		gpusim_trace_close_reader(r);
		return NULL;
	}
	r->version = version;
	if (get32(r->buf + 12)) {
		say(err, errlen, "%s: corrupt header (reserved word is 0x%x, not 0)", path, get32(r->buf + 12));
		gpusim_trace_close_reader(r);
		return NULL;
	}
	r->pos = HEADER_BYTES;
	uint32_t type;
	const unsigned char *p;
	size_t len;
	int rc = read_record(r, false, &type, &p, &len);
	if (rc == 0) {
		say(err, errlen, "%s: truncated at byte %d (no adapter record)", path, HEADER_BYTES);
		gpusim_trace_close_reader(r);
		return NULL;
	}
	if (rc < 0 || type != GPUSIM_TRACE_ADAPTER) {
		if (rc > 0)
			say(err, errlen, "%s: corrupt record at byte %d (type %s, expected the adapter record first)",
			    path, HEADER_BYTES, record_name(type));
		else
			say(err, errlen, "%s", r->msg);
		gpusim_trace_close_reader(r);
		return NULL;
	}
	decode_adapter(p, version == 1 ? ADAPTER_NSEG_V1 : ADAPTER_NSEG, ad);
	r->pos += RECORD_HEADER_BYTES + len;
	return r;
}

int gpusim_trace_next(struct gpusim_trace_reader *r, bool follow, struct gpusim_trace_item *item, char *err,
		      size_t errlen)
{
	if (!r || !item) {
		say(err, errlen, "no trace reader");
		return -1;
	}
	uint32_t type = 0;
	const unsigned char *p = NULL;
	size_t len = 0;
	int rc = r->failed ? -1 : read_record(r, follow, &type, &p, &len);
	if (rc < 0) {
		r->failed = true;
		say(err, errlen, "%s", r->msg);
		return -1;
	}
	if (rc == 0)
		return 0;
	if (type == GPUSIM_TRACE_ADAPTER) {
		r->failed = true;
		say(r->msg, sizeof(r->msg), "%s: corrupt record at byte %llu (a second adapter record)", r->path,
		    (unsigned long long)r->pos);
		say(err, errlen, "%s", r->msg);
		return -1;
	}
	memset(item, 0, sizeof(*item));
	item->type = type;
	if (type == GPUSIM_TRACE_EVENT) {
		decode_event(p, &item->event);
	} else {
		item->allocation = get32(p);
		item->device = get32(p + 4);
		memcpy(item->name, p + 8, len - 8);
		item->name[len - 8] = '\0';
	}
	r->pos += RECORD_HEADER_BYTES + len;
	return 1;
}
