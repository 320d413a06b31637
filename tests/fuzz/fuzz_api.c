/*
 * libFuzzer harness for the D3DKMT API of libkmt (issue 15, part 5): any
 * sequence of calls, with any field values, must return statuses and leave the
 * memory manager consistent; never a crash, a sanitizer report, a leak, a hang,
 * a stale handle that works again or simulated time that runs away.
 *
 * Input. A sequence of records [op][len][len bytes]. `op` (modulo the table
 * OPS below) picks one of the 44 D3DKMT entry points of <gpusim/d3dkmthk.h> or a
 * call of the gpusim_* test API (idle, fault injection, queries, the loader's
 * lock, a snapshot taken and restored, a fence's CPU address, an adapter
 * destroyed); the record's bytes fill the call's structure field by field in a
 * fixed order. A record's bytes are its own, so a mutation inside one call
 * leaves the fields of the others where they were, and reading past them gives
 * zeros. Zero is the typical choice for every field, the value a well-behaved
 * driver would pass (the most recent live handle of the kind, a count of one, a
 * buffer of the size claimed, a whole packet): [op][0] is a valid call, which
 * keeps the seeds short and gives the fuzzer working calls to mutate.
 *
 * Fields. A selector byte says: typical; from a pool of interesting values (0,
 * 1, powers of two and their neighbours, the API's maxima and one past them, page
 * and segment sizes, the GART base, ~0); the typical value nudged or with a bit
 * flipped; or raw bytes. Handles come from the objects this input made, which
 * the harness books with their owners so that a destroy marks what it takes
 * with it: live ones of the kind, destroyed (stale) ones, live ones of another
 * kind, the foreign objects of a second adapter, 0, raw words, and live handles
 * with a low bit set, another generation or the next slot.
 *
 * Pointers are NULL or a heap block of exactly the bytes the call is told it
 * has, so ASan reports any access past it. The harness never lies about a
 * size: where the API bounds a count (D3DKMT_CREATEALLOCATION_MAX,
 * D3DDDI_MAX_OBJECT_SIGNALED, ...) the count may pass the bound and the block
 * then holds bound + 1 elements, which a library that checks its bounds never
 * reaches; a count the API leaves unbounded is kept to what the block holds.
 * "Too small" is a size field smaller than the call needs (4 bytes of private
 * data for a 48-byte descriptor): the library must refuse it without reading
 * on. Where the documentation sizes an array by something other than its count
 * (one priority or residency status for a whole resource), the block is that
 * size. hAsyncEvent is NULL, the harness's own eventfd or a number that is no
 * descriptor: the library writes to whatever descriptor it is given.
 *
 * Command buffers. Render writes into the context's own buffer, allocation list
 * and patch locations (found with gpusim_context_buffers, so never into a
 * destroyed context's); SubmitCommand into an allocation mapped at a GPU VA,
 * through Lock2. Packets use the device's header macros (<gpusim/hw.h>): one of
 * the nine opcodes or any byte, the body count the opcode needs or any, and
 * addresses patched from the allocation list, taken from a live allocation's
 * place, a recorded VA mapping or reservation, a monitored fence's GPU VA, the
 * pool, or raw bytes.
 *
 * Setup per input: adapter A (vram=16M,visible=4M,gart=8M,sysmem=64M), opened,
 * with a device; adapter B (smaller, its render ring stopping on a fault where
 * A's skips the packet), opened, with a device, a legacy and a virtual context,
 * an allocation, a monitored fence and a paging queue: the foreign objects, and
 * through its adapter handle a place for the input's own objects too. At most MAX_CALLS calls and MAX_PACKETS packets an input, so
 * that one runs in milliseconds. At the end both adapters are destroyed with
 * everything on them, and gpusim_reset runs when the input made the default
 * adapter (an enumeration with none left): what LeakSanitizer then finds is the
 * library's. A reset every input would also free the library's allocation
 * cells, which the next input faults in again: most of an input's time.
 *
 * After every call, abort() unless: gpusim_check_invariants holds on every
 * adapter; the status is one that <gpusim/d3dkmthk.h> names; a handle the call
 * hands out is new, never a destroyed object's (issue 15, part 2); a call whose
 * object the input destroyed failed; a failed CreateAllocation or OpenResource
 * left the allocation count and the commit charge as they were; buffers the
 * library hands out (Lock, a context's lists, a fence's CPU value) can be read
 * end to end; a snapshot of a live adapter restores, and the copy's invariants
 * hold.
 *
 * Watchdog on simulated time. Every wait in the API is bounded by design (a CPU
 * wait nothing can meet answers STATUS_POSSIBLE_DEADLOCK, a queue wait
 * STATUS_TIMEOUT: kmt/README.md), so the harness needs no timeout of its own
 * and skips no call. A listener on each adapter aborts as soon as an event is
 * stamped more than WATCHDOG_NS of simulated time after the call began, and
 * after the call the clock must not have gone back nor moved further than
 * that: simulated time running away (a ring re-executing old work, a clock
 * jump) is caught while the call still emits events; a host-side loop that
 * emits nothing is libFuzzer's -timeout.
 *
 * Seeds: tests/fuzz/api-corpus/, written by `GPUSIM_FUZZ_API_SEEDS=DIR
 * ./tests/fuzz/fuzz_api` (the SEEDS table at the end), which then exits.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <gpusim/d3dkmthk.h>
#include <gpusim/gpusim.h>
#include <gpusim/hw.h>
#include <gpusim/snapshot.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CALLS 64
#define MAX_PACKETS 128
#define PACKETS_PER_BUFFER 32
#define MAX_OBJS 1024
#define MAX_VAS 64
#define MAX_ADDRS 32
/* Unbounded counts and blobs: what the harness gives at most. */
#define CAP_COUNT 64u
#define CAP_BLOB (64u << 10)
/* The simulated time one call may take. The longest legitimate call runs the
 * GPU work queued before it: at most MAX_PACKETS packets, each of which moves at
 * most the 24 MiB of VRAM and aperture A has (about 1 ms across the bus), plus
 * paging as much: well under a second. */
#define WATCHDOG_NS (10ull * 1000 * 1000 * 1000)

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fuzz_api: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

/* ---- the bytes of one call ------------------------------------------------------ */

struct rd {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct rd *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

static uint32_t raw32(struct rd *r)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < 4; i++)
		v |= (uint32_t)u8(r) << (8 * i);
	return v;
}

static uint64_t raw64(struct rd *r)
{
	uint64_t lo = raw32(r);
	return lo | (uint64_t)raw32(r) << 32;
}

static const uint32_t pool32[] = {
	0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256, 0x3f, 0x41, 0x7f, 0x80,
	0x3ff, 0x400, 0x401, 0x800, 0xfff, 0x1000, 0x1001, 0x1004, 0x2000, 0x2800, 0x2801, 0xffff, 0x10000,
	0x10001, 0x100000, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffc, 0xfffffffe, 0xffffffff,
	D3DDDI_ALLOCATIONPRIORITY_MINIMUM, D3DDDI_ALLOCATIONPRIORITY_LOW, D3DDDI_ALLOCATIONPRIORITY_NORMAL,
	D3DDDI_ALLOCATIONPRIORITY_HIGH, D3DDDI_ALLOCATIONPRIORITY_MAXIMUM, 0x40000000, 0x08000000, 48, 47, 49,
};

static const uint64_t pool64[] = {
	0, 1, 4, 0x1000, 0x2000, 0x10000, 0x100000, 0x200000, 0x400000, 0x800000, 0xfff000, 0x1000000,
	0x1001000, 0x2000000, 0x4000000, 0xffffffff, 0x100000000ull, HW_GART_BASE_DEFAULT,
	HW_GART_BASE_DEFAULT + 0x7ff000, HW_GART_BASE_DEFAULT + 0x800000, (1ull << 47) - 0x1000, 1ull << 47,
	(1ull << 48) - 0x1000, 1ull << 48, 1ull << 62, 1ull << 63, ~0ull - 0xfff, ~0ull,
};

/* A 32-bit field: 0 picks the typical value. */
static uint32_t f32(struct rd *r, uint32_t typical)
{
	uint8_t sel = u8(r);
	switch (sel % 8) {
	case 0:
		return typical;
	case 1:
		return pool32[u8(r) % N_ELEMS(pool32)];
	case 2:
		return typical + (uint32_t)(int8_t)u8(r);
	case 3:
		return u8(r);
	case 4:
		return typical ^ (1u << (u8(r) % 32));
	case 5:
		return (uint32_t)pool64[u8(r) % N_ELEMS(pool64)];
	default:
		return raw32(r);
	}
}

static uint64_t f64(struct rd *r, uint64_t typical)
{
	uint8_t sel = u8(r);
	switch (sel % 8) {
	case 0:
		return typical;
	case 1:
		return pool64[u8(r) % N_ELEMS(pool64)];
	case 2:
		return typical + (uint64_t)(int64_t)(int8_t)u8(r) * 0x1000;
	case 3:
		return u8(r);
	case 4:
		return typical ^ (1ull << (u8(r) % 64));
	case 5:
		return pool32[u8(r) % N_ELEMS(pool32)];
	default:
		return raw64(r);
	}
}

static bool fbool(struct rd *r, bool typical)
{
	uint8_t sel = u8(r);
	return sel ? sel & 1 : typical;
}

/* A count the API bounds by `max` (or that the harness bounds). */
static uint32_t cnt(struct rd *r, uint32_t typical, uint32_t max)
{
	uint8_t sel = u8(r);
	switch (sel % 8) {
	case 0:
		return typical;
	case 1:
		return 0;
	case 2:
		return max;
	case 3:
		return max + 1;
	case 4:
		return u8(r) % 8;
	case 5:
		return u8(r);
	case 6:
		return pool32[u8(r) % N_ELEMS(pool32)];
	default:
		return raw32(r);
	}
}

static uint32_t clamp32(uint32_t v, uint32_t cap)
{
	return v < cap ? v : cap;
}

/* ---- objects the input made ---------------------------------------------------- */

enum kind {
	K_ADAPTER,
	K_DEVICE,
	K_CONTEXT,   /* legacy: a command buffer of its own */
	K_VCONTEXT,  /* CreateContextVirtual */
	K_ALLOC,
	K_RESOURCE,
	K_SHARE,     /* a global share handle */
	K_FENCE,     /* D3DDDI_FENCE */
	K_MFENCE,    /* monitored fences, paging fences among them */
	K_PQ,
	K_NKINDS
};

struct obj {
	D3DKMT_HANDLE h;
	D3DKMT_HANDLE dev;   /* the device it belongs to (0 for adapters, devices) */
	D3DKMT_HANDLE owner; /* resource of an allocation or share, queue of a paging fence */
	uint8_t kind;
	uint8_t ad;          /* adapter index: 0 A, 1 B */
	bool dead;
	bool foreign;
};

static struct obj objs[MAX_OBJS];
static unsigned nobjs;

static struct obj *find(D3DKMT_HANDLE h)
{
	for (unsigned i = nobjs; i-- > 0;)
		if (objs[i].h == h)
			return &objs[i];
	return NULL;
}

static bool is_dead(D3DKMT_HANDLE h)
{
	const struct obj *o = h ? find(h) : NULL;
	return o && o->dead;
}

static unsigned ad_of(D3DKMT_HANDLE h)
{
	const struct obj *o = find(h);
	return o ? o->ad : 0;
}

/* A handle the library just handed out: never 0, low 6 bits clear, and never
 * one the input has seen, live or destroyed. */
static void made(D3DKMT_HANDLE h, enum kind k, unsigned ad, D3DKMT_HANDLE dev, D3DKMT_HANDLE owner,
		 bool foreign)
{
	if (!h || (h & 0x3f))
		die("new handle 0x%08x of kind %d is 0 or has low bits set", h, (int)k);
	const struct obj *o = find(h);
	if (o)
		die("new handle 0x%08x of kind %d names %s object of kind %d", h, (int)k,
		    o->dead ? "a destroyed" : "a live", (int)o->kind);
	if (nobjs == MAX_OBJS)
		return;
	objs[nobjs++] = (struct obj){ .h = h, .dev = dev, .owner = owner, .kind = (uint8_t)k,
				      .ad = (uint8_t)ad, .foreign = foreign };
}

static void bury(D3DKMT_HANDLE h)
{
	struct obj *o = h ? find(h) : NULL;
	if (o)
		o->dead = true;
}

static void kill_owned(D3DKMT_HANDLE owner)
{
	for (unsigned i = 0; i < nobjs; i++)
		if (objs[i].owner == owner)
			objs[i].dead = true;
	bury(owner);
}

static void kill_device(D3DKMT_HANDLE dev)
{
	for (unsigned i = 0; i < nobjs; i++)
		if (objs[i].dev == dev)
			objs[i].dead = true;
	bury(dev);
}

static void kill_adapter(unsigned ad)
{
	for (unsigned i = 0; i < nobjs; i++)
		if (objs[i].ad == ad)
			objs[i].dead = true;
}

/* The idx-th most recent object of kind k in the given state; 0 if none.
 * foreign: 0 the input's own, 1 adapter B's setup objects, -1 either. */
static D3DKMT_HANDLE pick(int k, bool dead, unsigned idx, int foreign)
{
	unsigned n = 0;
	for (unsigned i = 0; i < nobjs; i++)
		if ((k < 0 || objs[i].kind == k) && objs[i].dead == dead &&
		    (foreign < 0 || objs[i].foreign == (foreign > 0)))
			n++;
	if (!n)
		return 0;
	idx %= n;
	for (unsigned i = nobjs; i-- > 0;)
		if ((k < 0 || objs[i].kind == k) && objs[i].dead == dead &&
		    (foreign < 0 || objs[i].foreign == (foreign > 0)) && idx-- == 0)
			return objs[i].h;
	return 0;
}

/* A handle for a field that takes kind k (or, typically, alt when no k lives). */
static D3DKMT_HANDLE H2(struct rd *r, enum kind k, enum kind alt)
{
	uint8_t sel = u8(r);
	D3DKMT_HANDLE h;
	switch (sel % 16) {
	case 0:
		h = pick(k, false, 0, 0);
		return h ? h : pick(alt, false, 0, 0);
	case 1:
	case 2:
		return pick(k, false, u8(r), -1);
	case 3:
		return pick(alt, false, u8(r), -1);
	case 4:
		h = pick(k, true, u8(r), -1);
		return h ? h : pick(-1, true, u8(r), -1);
	case 5:
		return pick(-1, true, u8(r), -1);
	case 6:
		return pick((int)((k + 1 + u8(r) % (K_NKINDS - 1)) % K_NKINDS), false, u8(r), -1);
	case 7:
		return pick(k, false, u8(r), 1);
	case 8:
		return 0;
	case 9:
		return raw32(r);
	case 10: {
		h = pick(k, false, u8(r), -1);
		uint8_t how = u8(r);
		switch (how % 4) {
		case 0:
			return h | 1u << (how / 4 % 6);   /* the low bits a handle never has */
		case 1:
			return h ^ 1u << (27 + how / 4 % 5); /* another generation of the slot */
		case 2:
			return h + 0x40;                  /* the next slot */
		default:
			return h - 0x40;
		}
	}
	case 11:
		return pool32[u8(r) % N_ELEMS(pool32)];
	default:
		return pick(k, false, u8(r), 0);
	}
}

static D3DKMT_HANDLE H(struct rd *r, enum kind k)
{
	return H2(r, k, k);
}

/* ---- GPU addresses the input learnt ------------------------------------------------ */

struct va_rec {
	uint64_t va, size;
	D3DKMT_HANDLE alloc; /* 0: a reservation */
	uint64_t alloc_off;
};
static struct va_rec vas[MAX_VAS];
static unsigned nvas;
static uint64_t addrs[MAX_ADDRS]; /* monitored fences' GPU VAs */
static unsigned naddrs;

static void va_add(uint64_t va, uint64_t size, D3DKMT_HANDLE alloc, uint64_t off)
{
	if (nvas == MAX_VAS)
		memmove(vas, vas + 1, sizeof(vas[0]) * --nvas);
	vas[nvas++] = (struct va_rec){ .va = va, .size = size, .alloc = alloc, .alloc_off = off };
}

/* The idx-th most recent record (mappings only when `mapped`); NULL if none. */
static const struct va_rec *va_pick(unsigned idx, bool mapped)
{
	unsigned n = 0;
	for (unsigned i = 0; i < nvas; i++)
		n += !mapped || vas[i].alloc;
	if (!n)
		return NULL;
	idx %= n;
	for (unsigned i = nvas; i-- > 0;)
		if ((!mapped || vas[i].alloc) && idx-- == 0)
			return &vas[i];
	return NULL;
}

static void addr_add(uint64_t a)
{
	if (naddrs < MAX_ADDRS)
		addrs[naddrs++] = a;
}

/* ---- buffers handed to one call ------------------------------------------------ */

#define MAX_BLOCKS 48
struct blocks {
	void *p[MAX_BLOCKS];
	unsigned n;
};

/* Exactly `bytes` on the heap, zeroed; freed after the call. */
static void *block(struct blocks *b, size_t bytes)
{
	if (b->n == MAX_BLOCKS)
		die("more than %d blocks in one call", MAX_BLOCKS);
	void *p = malloc(bytes);
	if (!p && bytes)
		die("out of host memory for %zu bytes", bytes);
	if (p)
		memset(p, 0, bytes);
	b->p[b->n++] = p;
	return p;
}

static void blocks_free(struct blocks *b)
{
	for (unsigned i = 0; i < b->n; i++)
		free(b->p[i]);
	b->n = 0;
}

static bool null_ptr(struct rd *r)
{
	return u8(r) % 8 >= 6;
}

static void fill(struct rd *r, void *p, size_t n)
{
	uint8_t *d = p;
	for (size_t i = 0; i < n && r->n; i++)
		d[i] = u8(r);
}

/* An array for a count the API bounds by max: NULL, or a block of the count's
 * elements, bound + 1 at most (see the top comment). */
static void *array(struct rd *r, struct blocks *b, uint32_t count, uint32_t max, size_t elem)
{
	if (null_ptr(r))
		return NULL;
	uint64_t n = count > max ? (uint64_t)max + 1 : count;
	return block(b, n * elem);
}

/* A private-data blob of `size` bytes (the caller keeps size within CAP_BLOB). */
static void *blob(struct rd *r, struct blocks *b, uint32_t size)
{
	if (null_ptr(r))
		return NULL;
	void *p = block(b, size);
	fill(r, p, size);
	return p;
}

/* Handles for an array of n (the first few from the input, the rest repeat
 * them, so a long list costs no more than a short one). */
static void fill_handles(struct rd *r, D3DKMT_HANDLE *a, uint64_t n, enum kind k)
{
	for (uint64_t i = 0; a && i < n; i++)
		a[i] = i < 8 ? H(r, k) : a[i % 8];
}

static D3DKMT_HANDLE *harr(struct rd *r, struct blocks *b, enum kind k, uint32_t count, uint32_t max)
{
	D3DKMT_HANDLE *a = array(r, b, count, max, sizeof(*a));
	fill_handles(r, a, count > max ? (uint64_t)max + 1 : count, k);
	return a;
}

/* ---- checks ---------------------------------------------------------------------- */

static LUID luids[2];
static bool ad_alive[2];
static uint64_t t0[2];
static uint64_t wd_deadline[2];
static uint64_t fence_counter; /* the value a typical signal moves a fence to */
static unsigned packets_left;
static int evfd = -1;
static bool trace; /* GPUSIM_FUZZ_API_TRACE: each call and its status on stderr */
/* Enumeration with no adapter left makes the default one, which only
 * gpusim_reset takes away (see the end of LLVMFuzzerTestOneInput). */
static bool default_made;
static uint8_t sysmem_page[1 << 16] __attribute__((aligned(4096)));

static bool known_status(NTSTATUS st)
{
	static const NTSTATUS known[] = {
		STATUS_SUCCESS, STATUS_TIMEOUT, STATUS_PENDING, STATUS_UNSUCCESSFUL, STATUS_NOT_IMPLEMENTED,
		STATUS_INVALID_HANDLE, STATUS_INVALID_PARAMETER, STATUS_NO_MEMORY, STATUS_ACCESS_DENIED,
		STATUS_BUFFER_TOO_SMALL, STATUS_OBJECT_TYPE_MISMATCH, STATUS_NOT_SUPPORTED,
		STATUS_INVALID_DEVICE_STATE, STATUS_DEVICE_REMOVED, STATUS_POSSIBLE_DEADLOCK,
		STATUS_GRAPHICS_NO_VIDEO_MEMORY, STATUS_GRAPHICS_CANT_LOCK_MEMORY,
		STATUS_GRAPHICS_ALLOCATION_BUSY, STATUS_GRAPHICS_TRY_AGAIN_LATER,
		STATUS_GRAPHICS_ALLOCATION_INVALID, STATUS_GRAPHICS_CANT_EVICT_PINNED_ALLOCATION,
		STATUS_GRAPHICS_INVALID_ALLOCATION_USAGE, STATUS_GRAPHICS_CANT_RENDER_LOCKED_ALLOCATION,
		STATUS_GRAPHICS_ALLOCATION_CLOSED, STATUS_GRAPHICS_INVALID_ALLOCATION_INSTANCE,
		STATUS_GRAPHICS_INVALID_ALLOCATION_HANDLE, STATUS_GRAPHICS_WRONG_ALLOCATION_DEVICE,
		STATUS_GRAPHICS_ALLOCATION_CONTENT_LOST,
	};
	for (size_t i = 0; i < N_ELEMS(known); i++)
		if (st == known[i])
			return true;
	return false;
}

static struct gpusim_stats stats_of(unsigned i)
{
	struct gpusim_stats s;
	memset(&s, 0, sizeof(s));
	if (ad_alive[i] && gpusim_get_stats(luids[i], &s) != STATUS_SUCCESS)
		die("gpusim_get_stats failed on a live adapter");
	return s;
}

static void watchdog(void *opaque, const struct gpusim_event *ev)
{
	unsigned i = (unsigned)(uintptr_t)opaque;
	if (ev->time_ns > wd_deadline[i])
		die("watchdog: adapter %u event %s at %llu ns, more than %llu ns after the call began", i,
		    gpusim_event_name(ev->type), (unsigned long long)ev->time_ns,
		    (unsigned long long)WATCHDOG_NS);
}

static void before(void)
{
	for (unsigned i = 0; i < 2; i++) {
		t0[i] = stats_of(i).time_ns;
		wd_deadline[i] = t0[i] + WATCHDOG_NS;
	}
}

static void after(const char *name, NTSTATUS st)
{
	if (!known_status(st))
		die("%s returned 0x%08x, a status <gpusim/d3dkmthk.h> does not name", name, (unsigned)st);
	for (unsigned i = 0; i < 2; i++) {
		if (!ad_alive[i])
			continue;
		char why[256] = "";
		if (gpusim_check_invariants(luids[i], why, sizeof(why)) != STATUS_SUCCESS)
			die("after %s (status 0x%08x): adapter %u: invariants: %s", name, (unsigned)st, i, why);
		uint64_t t = stats_of(i).time_ns;
		if (t < t0[i] || t - t0[i] > WATCHDOG_NS)
			die("after %s: adapter %u's clock went from %llu to %llu ns", name, i,
			    (unsigned long long)t0[i], (unsigned long long)t);
	}
}

/* A call on an object the input destroyed must fail. */
static void dead_fails(const char *name, NTSTATUS st, D3DKMT_HANDLE h)
{
	if (NT_SUCCESS(st) && is_dead(h))
		die("%s succeeded (0x%08x) on destroyed handle 0x%08x", name, (unsigned)st, h);
}

/* What a failed create must leave as it was. */
struct counts {
	uint64_t allocs[2], commit[2];
};

static struct counts counts_now(void)
{
	struct counts c;
	for (unsigned i = 0; i < 2; i++) {
		struct gpusim_stats s = stats_of(i);
		c.allocs[i] = s.allocations;
		c.commit[i] = s.commit_pages;
	}
	return c;
}

static void counts_same(const char *name, NTSTATUS st, const struct counts *c)
{
	struct counts n = counts_now();
	for (unsigned i = 0; i < 2; i++)
		if (n.allocs[i] != c->allocs[i] || n.commit[i] != c->commit[i])
			die("%s failed (0x%08x) but adapter %u went from %llu allocations and %llu commit "
			    "pages to %llu and %llu",
			    name, (unsigned)st, i, (unsigned long long)c->allocs[i],
			    (unsigned long long)c->commit[i], (unsigned long long)n.allocs[i],
			    (unsigned long long)n.commit[i]);
}

/* Read a buffer the library handed out at both ends, and write some of it when
 * the caller may: ASan or the MMU says if it is not what was promised. */
static void touch(struct rd *r, void *p, uint64_t size, bool write)
{
	if (!p || !size)
		die("an empty buffer handed out");
	volatile uint8_t *v = p;
	(void)v[0];
	(void)v[size - 1];
	if (write) {
		uint64_t off = f64(r, 0) % size;
		uint32_t n = clamp32(u8(r), (uint32_t)(size - off < 256 ? size - off : 256));
		for (uint32_t i = 0; i < n; i++)
			v[off + i] = (uint8_t)(i * 37 + 1);
	}
}

static uint64_t alloc_size(D3DKMT_HANDLE h)
{
	struct gpusim_alloc_info info;
	return gpusim_query_allocation(h, &info) == STATUS_SUCCESS ? info.size : 0;
}

/* ---- packets ------------------------------------------------------------------------ */

struct cmd {
	uint32_t *dw;
	uint32_t cap, n;      /* dwords */
	uint32_t base;        /* byte offset of dw[0] in the command buffer (patch offsets) */
	D3DDDI_ALLOCATIONLIST *alist; /* Render: the context's lists; NULL for a VA buffer */
	uint32_t acap, na;
	D3DDDI_PATCHLOCATIONLIST *plist;
	uint32_t pcap, np;
};

static bool put(struct cmd *c, uint32_t v)
{
	if (c->n == c->cap)
		return false;
	c->dw[c->n++] = v;
	return true;
}

static bool put64(struct cmd *c, uint64_t v)
{
	return put(c, (uint32_t)v) && put(c, (uint32_t)(v >> 32));
}

/* Two dwords that Render patches with an allocation's GPU address. */
static bool patch(struct rd *r, struct cmd *c, D3DKMT_HANDLE h)
{
	if (!c->alist || c->na == c->acap || c->np == c->pcap || c->cap - c->n < 2)
		return put64(c, raw64(r));
	uint32_t idx = c->na++;
	c->alist[idx].hAllocation = h;
	c->alist[idx].Value = f32(r, 1) & 0x3f; /* WriteOperation typically */
	D3DDDI_PATCHLOCATIONLIST *pl = &c->plist[c->np++];
	memset(pl, 0, sizeof(*pl));
	pl->AllocationIndex = f32(r, idx);
	pl->AllocationOffset = f32(r, 0);
	pl->PatchOffset = f32(r, c->base + c->n * 4);
	pl->Value = f32(r, 0);
	return put64(c, 0xdeadbeefdeadbeefull);
}

static bool addr(struct rd *r, struct cmd *c)
{
	uint8_t sel = u8(r);
	const struct va_rec *m;
	struct gpusim_alloc_info info;
	switch (sel % 8) {
	case 0:
		if (c->alist)
			return patch(r, c, pick(K_ALLOC, false, 0, 0));
		m = va_pick(0, true);
		return put64(c, m ? m->va : 0);
	case 1:
		if (c->alist)
			return patch(r, c, H(r, K_ALLOC));
		m = va_pick(u8(r), false);
		return put64(c, (m ? m->va : 0) + f64(r, 0));
	case 2:
		if (gpusim_query_allocation(H(r, K_ALLOC), &info) != STATUS_SUCCESS)
			info.gpu_address = 0;
		return put64(c, info.gpu_address + f64(r, 0));
	case 3:
		m = va_pick(u8(r), false);
		return put64(c, (m ? m->va : 0) + f64(r, 0));
	case 4:
		return put64(c, naddrs ? addrs[u8(r) % naddrs] : 0);
	case 5:
		return put64(c, pool64[u8(r) % N_ELEMS(pool64)]);
	case 6:
		return put64(c, raw64(r));
	default:
		return put64(c, f64(r, 0));
	}
}

static const uint32_t opcodes[] = {
	HW_PKT_FILL, HW_PKT_COPY, HW_PKT_WRITE_DATA, HW_PKT_CHECKSUM, HW_PKT_FENCE,
	HW_PKT_WAIT, HW_PKT_NOP, HW_PKT_SET_VM, HW_PKT_TLB_INVALIDATE,
};

/* One packet: the header claims `count` body dwords, the body written is what
 * the opcode needs (or `count` raw dwords for a NOP or an unknown opcode), so a
 * wrong count is a packet whose framing lies. */
static bool packet(struct rd *r, struct cmd *c)
{
	uint8_t osel = u8(r);
	uint32_t op = osel < 240 ? opcodes[osel % N_ELEMS(opcodes)] : u8(r);
	uint32_t extra = 0, right;
	switch (op) {
	case HW_PKT_NOP:
		right = clamp32(f32(r, 0), 64);
		break;
	case HW_PKT_WRITE_DATA:
		extra = clamp32(f32(r, 1), 64);
		right = 2 + extra;
		break;
	case HW_PKT_COPY:
	case HW_PKT_CHECKSUM:
		right = 6;
		break;
	case HW_PKT_FILL:
		right = 5;
		break;
	case HW_PKT_FENCE:
	case HW_PKT_WAIT:
	case HW_PKT_SET_VM:
	case HW_PKT_TLB_INVALIDATE:
		right = 4;
		break;
	default:
		right = clamp32(f32(r, 0), 64);
		break;
	}
	uint32_t flags = f32(r, op == HW_PKT_FENCE ? HW_PKT_FENCE_IRQ : 0) & 0xff;
	uint32_t count = f32(r, right) & 0xffff;
	if (!put(c, HW_PKT_HEADER(op, flags, count)))
		return false;
	switch (op) {
	case HW_PKT_WRITE_DATA:
		if (!addr(r, c))
			return false;
		for (uint32_t i = 0; i < extra; i++)
			if (!put(c, f32(r, 0x5a5a0000 + i)))
				return false;
		return true;
	case HW_PKT_COPY:
		return addr(r, c) && addr(r, c) && put64(c, f64(r, 0x1000));
	case HW_PKT_FILL:
		return addr(r, c) && put64(c, f64(r, 0x1000)) && put(c, f32(r, 0));
	case HW_PKT_CHECKSUM:
		return addr(r, c) && put64(c, f64(r, 0x1000)) && addr(r, c);
	case HW_PKT_FENCE:
	case HW_PKT_WAIT:
		return addr(r, c) && put64(c, f64(r, fence_counter));
	case HW_PKT_SET_VM:
		return put64(c, f64(r, 0)) && put(c, f32(r, 1)) && put(c, f32(r, 1));
	case HW_PKT_TLB_INVALIDATE:
		return put(c, f32(r, 1)) && addr(r, c) && put(c, f32(r, 1));
	default:
		for (uint32_t i = 0; i < right; i++)
			if (!put(c, f32(r, 0)))
				return false;
		return true;
	}
}

static void packets(struct rd *r, struct cmd *c)
{
	uint32_t n = clamp32(clamp32(f32(r, 1), PACKETS_PER_BUFFER), packets_left);
	for (uint32_t i = 0; i < n; i++) {
		packets_left--;
		if (!packet(r, c))
			break;
	}
}

/* ---- the calls ---------------------------------------------------------------------- */

static NTSTATUS op_enum2(struct rd *r, struct blocks *b)
{
	D3DKMT_ENUMADAPTERS2 e;
	memset(&e, 0, sizeof(e));
	e.NumAdapters = cnt(r, 4, D3DKMT_ADAPTERS_MAX);
	e.pAdapters = array(r, b, e.NumAdapters, D3DKMT_ADAPTERS_MAX, sizeof(D3DKMT_ADAPTERINFO));
	uint32_t room = e.NumAdapters;
	default_made |= !ad_alive[0] && !ad_alive[1];
	NTSTATUS st = D3DKMTEnumAdapters2(&e);
	if (st == STATUS_SUCCESS && e.pAdapters) {
		if (e.NumAdapters > room)
			die("EnumAdapters2 listed %u adapters in room for %u", e.NumAdapters, room);
		for (ULONG i = 0; i < e.NumAdapters; i++) {
			const D3DKMT_ADAPTERINFO *a = &e.pAdapters[i];
			made(a->hAdapter, K_ADAPTER, a->AdapterLuid.LowPart == luids[1].LowPart, 0, 0, false);
		}
	}
	return st;
}

static NTSTATUS op_enum3(struct rd *r, struct blocks *b)
{
	D3DKMT_ENUMADAPTERS3 e;
	memset(&e, 0, sizeof(e));
	e.Filter.Value = f64(r, 0);
	e.NumAdapters = cnt(r, 4, D3DKMT_ADAPTERS_MAX);
	e.pAdapters = array(r, b, e.NumAdapters, D3DKMT_ADAPTERS_MAX, sizeof(D3DKMT_ADAPTERINFO));
	uint32_t room = e.NumAdapters;
	default_made |= !ad_alive[0] && !ad_alive[1];
	NTSTATUS st = D3DKMTEnumAdapters3(&e);
	if (st == STATUS_SUCCESS && e.pAdapters) {
		if (e.NumAdapters > room)
			die("EnumAdapters3 listed %u adapters in room for %u", e.NumAdapters, room);
		for (ULONG i = 0; i < e.NumAdapters; i++) {
			const D3DKMT_ADAPTERINFO *a = &e.pAdapters[i];
			made(a->hAdapter, K_ADAPTER, a->AdapterLuid.LowPart == luids[1].LowPart, 0, 0, false);
		}
	}
	return st;
}

static LUID luid_field(struct rd *r)
{
	uint8_t sel = u8(r);
	LUID l = luids[0];
	switch (sel % 4) {
	case 1:
		l = luids[1];
		break;
	case 2:
		l.LowPart = raw32(r);
		l.HighPart = (LONG)raw32(r);
		break;
	case 3:
		l.LowPart += (uint32_t)(int8_t)u8(r); /* a neighbour: restored adapters, the next one */
		break;
	default:
		break;
	}
	return l;
}

static NTSTATUS op_open(struct rd *r, struct blocks *b)
{
	(void)b;
	D3DKMT_OPENADAPTERFROMLUID o;
	memset(&o, 0, sizeof(o));
	o.AdapterLuid = luid_field(r);
	NTSTATUS st = D3DKMTOpenAdapterFromLuid(&o);
	if (st == STATUS_SUCCESS)
		made(o.hAdapter, K_ADAPTER, o.AdapterLuid.LowPart == luids[1].LowPart, 0, 0, false);
	return st;
}

static NTSTATUS op_close(struct rd *r, struct blocks *b)
{
	(void)b;
	D3DKMT_CLOSEADAPTER c = { .hAdapter = H(r, K_ADAPTER) };
	NTSTATUS st = D3DKMTCloseAdapter(&c);
	dead_fails("CloseAdapter", st, c.hAdapter);
	if (st == STATUS_SUCCESS)
		bury(c.hAdapter);
	return st;
}

static const struct {
	KMTQUERYADAPTERINFOTYPE type;
	uint32_t size;
} queries[] = {
	{ KMTQAITYPE_GETSEGMENTSIZE, sizeof(D3DKMT_SEGMENTSIZEINFO) },
	{ KMTQAITYPE_GETSEGMENTGROUPSIZE, sizeof(D3DKMT_SEGMENTGROUPSIZEINFO) },
	{ KMTQAITYPE_ADAPTERTYPE, sizeof(D3DKMT_ADAPTERTYPE) },
	{ KMTQAITYPE_ADAPTERTYPE_RENDER, sizeof(D3DKMT_ADAPTERTYPE) },
	{ KMTQAITYPE_PHYSICALADAPTERCOUNT, sizeof(D3DKMT_PHYSICAL_ADAPTER_COUNT) },
	{ KMTQAITYPE_PHYSICALADAPTERDEVICEIDS, sizeof(D3DKMT_QUERY_DEVICE_IDS) },
	{ KMTQAITYPE_DRIVER_DESCRIPTION, sizeof(D3DKMT_DRIVER_DESCRIPTION) },
	{ KMTQAITYPE_DRIVER_DESCRIPTION_RENDER, sizeof(D3DKMT_DRIVER_DESCRIPTION) },
	{ KMTQAITYPE_DRIVERVERSION, sizeof(D3DKMT_DRIVERVERSION) },
	{ KMTQAITYPE_DRIVERVERSION_RENDER, sizeof(D3DKMT_DRIVERVERSION) },
	{ KMTQAITYPE_NODEMETADATA, sizeof(D3DKMT_NODEMETADATA) },
	{ KMTQAITYPE_WDDM_1_2_CAPS, sizeof(D3DKMT_WDDM_1_2_CAPS) },
	{ KMTQAITYPE_WDDM_1_2_CAPS_RENDER, sizeof(D3DKMT_WDDM_1_2_CAPS) },
	{ KMTQAITYPE_WDDM_1_3_CAPS, sizeof(D3DKMT_WDDM_1_3_CAPS) },
	{ KMTQAITYPE_WDDM_1_3_CAPS_RENDER, sizeof(D3DKMT_WDDM_1_3_CAPS) },
	{ KMTQAITYPE_WDDM_2_0_CAPS, sizeof(D3DKMT_WDDM_2_0_CAPS) },
	{ KMTQAITYPE_WDDM_2_7_CAPS, sizeof(D3DKMT_WDDM_2_7_CAPS) },
	{ KMTQAITYPE_WDDM_2_9_CAPS, sizeof(D3DKMT_WDDM_2_9_CAPS) },
	{ KMTQAITYPE_WDDM_3_0_CAPS, sizeof(D3DKMT_WDDM_3_0_CAPS) },
	{ KMTQAITYPE_DRIVERCAPS_EXT, sizeof(D3DKMT_DRIVERCAPS_EXT) },
	{ KMTQAITYPE_UMDRIVERPRIVATE, 4 },
	{ KMTQAITYPE_ADAPTERADDRESS, sizeof(D3DKMT_ADAPTERADDRESS) },
	{ KMTQAITYPE_UMD_DRIVER_VERSION, sizeof(D3DKMT_UMD_DRIVER_VERSION) },
	{ KMTQAITYPE_KMD_DRIVER_VERSION, sizeof(D3DKMT_KMD_DRIVER_VERSION) },
};

static NTSTATUS op_query_adapter(struct rd *r, struct blocks *b)
{
	D3DKMT_QUERYADAPTERINFO q;
	memset(&q, 0, sizeof(q));
	q.hAdapter = H(r, K_ADAPTER);
	uint8_t sel = u8(r);
	uint32_t need = queries[sel % N_ELEMS(queries)].size;
	q.Type = sel < 224 ? queries[sel % N_ELEMS(queries)].type : (KMTQUERYADAPTERINFOTYPE)raw32(r);
	q.PrivateDriverDataSize = clamp32(f32(r, need), CAP_BLOB);
	q.pPrivateDriverData = blob(r, b, q.PrivateDriverDataSize);
	NTSTATUS st = D3DKMTQueryAdapterInfo(&q);
	dead_fails("QueryAdapterInfo", st, q.hAdapter);
	return st;
}

static NTSTATUS op_create_device(struct rd *r, struct blocks *b)
{
	(void)b;
	D3DKMT_CREATEDEVICE cd;
	memset(&cd, 0, sizeof(cd));
	D3DKMT_HANDLE a = H(r, K_ADAPTER);
	cd.pAdapter_Align = (uint64_t)f32(r, 0) << 32 | a; /* the kernel-mode pointer's upper half */
	uint32_t flags = f32(r, 0);
	memcpy(&cd.Flags, &flags, sizeof(flags));
	NTSTATUS st = D3DKMTCreateDevice(&cd);
	dead_fails("CreateDevice", st, a);
	if (st == STATUS_SUCCESS)
		made(cd.hDevice, K_DEVICE, ad_of(a), 0, 0, false);
	return st;
}

static NTSTATUS op_destroy_device(struct rd *r, struct blocks *b)
{
	(void)b;
	D3DKMT_DESTROYDEVICE d = { .hDevice = H(r, K_DEVICE) };
	NTSTATUS st = D3DKMTDestroyDevice(&d);
	dead_fails("DestroyDevice", st, d.hDevice);
	if (st == STATUS_SUCCESS)
		kill_device(d.hDevice);
	return st;
}

static NTSTATUS op_create_context(struct rd *r, struct blocks *b)
{
	D3DKMT_CREATECONTEXT c;
	memset(&c, 0, sizeof(c));
	c.hDevice = H(r, K_DEVICE);
	c.NodeOrdinal = f32(r, 0);
	c.EngineAffinity = f32(r, 0);
	c.Flags.Value = f32(r, 0);
	c.PrivateDriverDataSize = clamp32(f32(r, 0), CAP_BLOB);
	c.pPrivateDriverData = blob(r, b, c.PrivateDriverDataSize);
	c.ClientHint = (D3DKMT_CLIENTHINT)f32(r, D3DKMT_CLIENTHINT_DX12);
	NTSTATUS st = D3DKMTCreateContext(&c);
	dead_fails("CreateContext", st, c.hDevice);
	if (st == STATUS_SUCCESS) {
		made(c.hContext, K_CONTEXT, ad_of(c.hDevice), c.hDevice, 0, false);
		touch(r, c.pCommandBuffer, c.CommandBufferSize, true);
		touch(r, c.pAllocationList, (uint64_t)c.AllocationListSize * sizeof(D3DDDI_ALLOCATIONLIST), false);
		touch(r, c.pPatchLocationList,
		      (uint64_t)c.PatchLocationListSize * sizeof(D3DDDI_PATCHLOCATIONLIST), false);
	}
	return st;
}

static NTSTATUS op_create_vcontext(struct rd *r, struct blocks *b)
{
	D3DKMT_CREATECONTEXTVIRTUAL c;
	memset(&c, 0, sizeof(c));
	c.hDevice = H(r, K_DEVICE);
	c.NodeOrdinal = f32(r, 0);
	c.EngineAffinity = f32(r, 0);
	c.Flags.Value = f32(r, 0);
	c.PrivateDriverDataSize = clamp32(f32(r, 0), CAP_BLOB);
	c.pPrivateDriverData = blob(r, b, c.PrivateDriverDataSize);
	c.ClientHint = (D3DKMT_CLIENTHINT)f32(r, D3DKMT_CLIENTHINT_DX12);
	NTSTATUS st = D3DKMTCreateContextVirtual(&c);
	dead_fails("CreateContextVirtual", st, c.hDevice);
	if (st == STATUS_SUCCESS)
		made(c.hContext, K_VCONTEXT, ad_of(c.hDevice), c.hDevice, 0, false);
	return st;
}

static NTSTATUS op_destroy_context(struct rd *r, struct blocks *b)
{
	(void)b;
	D3DKMT_DESTROYCONTEXT d = { .hContext = H2(r, K_CONTEXT, K_VCONTEXT) };
	NTSTATUS st = D3DKMTDestroyContext(&d);
	dead_fails("DestroyContext", st, d.hContext);
	if (st == STATUS_SUCCESS)
		bury(d.hContext);
	return st;
}

static NTSTATUS op_device_state(struct rd *r, struct blocks *b)
{
	(void)b;
	D3DKMT_GETDEVICESTATE g;
	memset(&g, 0, sizeof(g));
	g.hDevice = H(r, K_DEVICE);
	g.StateType = (D3DKMT_DEVICESTATE_TYPE)f32(r, D3DKMT_DEVICESTATE_PAGE_FAULT);
	NTSTATUS st = D3DKMTGetDeviceState(&g);
	dead_fails("GetDeviceState", st, g.hDevice);
	return st;
}

/* The private data of one allocation: a gpusim_alloc_desc of any values, in a
 * block of any size. */
static void alloc_private(struct rd *r, struct blocks *b, const void **p, UINT *size)
{
	struct gpusim_alloc_desc d;
	memset(&d, 0, sizeof(d));
	d.version = f32(r, GPUSIM_ALLOC_DESC_VERSION);
	d.flags = f32(r, GPUSIM_ALLOC_CPU_VISIBLE);
	d.size = f64(r, 0x10000);
	d.alignment = f64(r, 0);
	for (unsigned i = 0; i < 3; i++)
		d.preferred[i] = f32(r, 0);
	d.allowed = f32(r, 0);
	d.priority = f32(r, 0);
	*size = clamp32(f32(r, sizeof(d)), 4096);
	if (null_ptr(r)) {
		*p = NULL;
		return;
	}
	uint8_t *q = block(b, *size);
	memcpy(q, &d, *size < sizeof(d) ? *size : sizeof(d));
	if (*size > sizeof(d))
		fill(r, q + sizeof(d), *size - sizeof(d));
	*p = q;
}

static NTSTATUS op_create_allocation(struct rd *r, struct blocks *b, bool v2)
{
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = H(r, K_DEVICE);
	uint32_t flags = f32(r, 0);
	memcpy(&ca.Flags, &flags, sizeof(flags));
	ca.hResource = fbool(r, false) ? H(r, K_RESOURCE) : 0;
	ca.PrivateRuntimeDataSize = clamp32(f32(r, 0), CAP_BLOB + 1);
	ca.pPrivateRuntimeData = blob(r, b, ca.PrivateRuntimeDataSize);
	ca.PrivateDriverDataSize = clamp32(f32(r, 0), CAP_BLOB + 1);
	ca.pPrivateDriverData = blob(r, b, ca.PrivateDriverDataSize);
	ca.NumAllocations = cnt(r, 1, D3DKMT_CREATEALLOCATION_MAX);
	size_t elem = v2 ? sizeof(D3DDDI_ALLOCATIONINFO2) : sizeof(D3DDDI_ALLOCATIONINFO);
	void *info = array(r, b, ca.NumAllocations, D3DKMT_CREATEALLOCATION_MAX, elem);
	uint32_t n = ca.NumAllocations > D3DKMT_CREATEALLOCATION_MAX ? D3DKMT_CREATEALLOCATION_MAX + 1
								     : ca.NumAllocations;
	for (uint32_t i = 0; info && i < n; i++) {
		if (i >= 8) {
			memcpy((uint8_t *)info + i * elem, (uint8_t *)info + (i % 8) * elem, elem);
			continue;
		}
		const void *priv;
		UINT size;
		alloc_private(r, b, &priv, &size);
		const void *sysmem = fbool(r, false) ? sysmem_page : NULL;
		if (v2) {
			D3DDDI_ALLOCATIONINFO2 *in = (D3DDDI_ALLOCATIONINFO2 *)info + i;
			in->pPrivateDriverData = (void *)priv;
			in->PrivateDriverDataSize = size;
			in->pSystemMem = sysmem;
			in->VidPnSourceId = f32(r, 0);
			in->Flags.Value = f32(r, 0);
			in->Priority = f32(r, 0);
		} else {
			D3DDDI_ALLOCATIONINFO *in = (D3DDDI_ALLOCATIONINFO *)info + i;
			in->pPrivateDriverData = (void *)priv;
			in->PrivateDriverDataSize = size;
			in->pSystemMem = sysmem;
			in->VidPnSourceId = f32(r, 0);
			in->Flags.Value = f32(r, 0);
		}
	}
	if (v2)
		ca.pAllocationInfo2 = info;
	else
		ca.pAllocationInfo = info;
	D3DKMT_HANDLE given_res = ca.hResource;
	struct counts before_counts = counts_now();
	NTSTATUS st = v2 ? D3DKMTCreateAllocation2(&ca) : D3DKMTCreateAllocation(&ca);
	const char *name = v2 ? "CreateAllocation2" : "CreateAllocation";
	dead_fails(name, st, ca.hDevice);
	if (given_res)
		dead_fails(name, st, given_res);
	if (st != STATUS_SUCCESS) {
		counts_same(name, st, &before_counts);
		return st;
	}
	unsigned ad = ad_of(ca.hDevice);
	if (flags & 0x1u)
		made(ca.hResource, K_RESOURCE, ad, ca.hDevice, 0, false);
	if (ca.hGlobalShare)
		made(ca.hGlobalShare, K_SHARE, ad, ca.hDevice, ca.hResource, false);
	for (uint32_t i = 0; i < ca.NumAllocations; i++)
		made(v2 ? ca.pAllocationInfo2[i].hAllocation : ca.pAllocationInfo[i].hAllocation, K_ALLOC, ad,
		     ca.hDevice, ca.hResource, false);
	return st;
}

static NTSTATUS op_create_allocation1(struct rd *r, struct blocks *b)
{
	return op_create_allocation(r, b, false);
}

static NTSTATUS op_create_allocation2(struct rd *r, struct blocks *b)
{
	return op_create_allocation(r, b, true);
}

static NTSTATUS op_destroy_allocation(struct rd *r, struct blocks *b, bool v2)
{
	D3DKMT_HANDLE dev = H(r, K_DEVICE);
	D3DKMT_HANDLE res = fbool(r, false) ? H(r, K_RESOURCE) : 0;
	uint32_t n = cnt(r, 1, D3DKMT_CREATEALLOCATION_MAX);
	const D3DKMT_HANDLE *list = harr(r, b, K_ALLOC, n, D3DKMT_CREATEALLOCATION_MAX);
	NTSTATUS st;
	const char *name = v2 ? "DestroyAllocation2" : "DestroyAllocation";
	if (v2) {
		D3DKMT_DESTROYALLOCATION2 d = { .hDevice = dev, .hResource = res, .phAllocationList = list,
						.AllocationCount = n };
		d.Flags.Value = f32(r, 0);
		st = D3DKMTDestroyAllocation2(&d);
	} else {
		D3DKMT_DESTROYALLOCATION d = { .hDevice = dev, .hResource = res, .phAllocationList = list,
					       .AllocationCount = n };
		st = D3DKMTDestroyAllocation(&d);
	}
	dead_fails(name, st, dev);
	if (res) {
		dead_fails(name, st, res);
		if (st == STATUS_SUCCESS)
			kill_owned(res);
		return st;
	}
	for (uint32_t i = 0; list && i < n && i <= D3DKMT_CREATEALLOCATION_MAX; i++) {
		dead_fails(name, st, list[i]);
		if (st == STATUS_SUCCESS)
			bury(list[i]);
	}
	return st;
}

static NTSTATUS op_destroy_allocation1(struct rd *r, struct blocks *b)
{
	return op_destroy_allocation(r, b, false);
}

static NTSTATUS op_destroy_allocation2(struct rd *r, struct blocks *b)
{
	return op_destroy_allocation(r, b, true);
}

static NTSTATUS op_query_resource(struct rd *r, struct blocks *b)
{
	D3DKMT_QUERYRESOURCEINFO q;
	memset(&q, 0, sizeof(q));
	q.hDevice = H(r, K_DEVICE);
	q.hGlobalShare = H(r, K_SHARE);
	q.PrivateRuntimeDataSize = clamp32(f32(r, 0), CAP_BLOB + 1);
	q.pPrivateRuntimeData = blob(r, b, q.PrivateRuntimeDataSize);
	NTSTATUS st = D3DKMTQueryResourceInfo(&q);
	dead_fails("QueryResourceInfo", st, q.hDevice);
	dead_fails("QueryResourceInfo", st, q.hGlobalShare);
	return st;
}

static NTSTATUS op_open_resource(struct rd *r, struct blocks *b)
{
	D3DKMT_OPENRESOURCE o;
	memset(&o, 0, sizeof(o));
	o.hDevice = H(r, K_DEVICE);
	o.hGlobalShare = H(r, K_SHARE);
	/* Typical sizes are what QueryResourceInfo says, as a runtime asks first. */
	D3DKMT_QUERYRESOURCEINFO q;
	memset(&q, 0, sizeof(q));
	q.hDevice = o.hDevice;
	q.hGlobalShare = o.hGlobalShare;
	if (D3DKMTQueryResourceInfo(&q) != STATUS_SUCCESS)
		memset(&q, 0, sizeof(q));
	o.NumAllocations = cnt(r, q.NumAllocations, D3DKMT_CREATEALLOCATION_MAX);
	o.pOpenAllocationInfo = array(r, b, o.NumAllocations, D3DKMT_CREATEALLOCATION_MAX,
				      sizeof(D3DDDI_OPENALLOCATIONINFO));
	o.PrivateRuntimeDataSize = clamp32(f32(r, q.PrivateRuntimeDataSize), CAP_BLOB + 1);
	o.pPrivateRuntimeData = blob(r, b, o.PrivateRuntimeDataSize);
	o.ResourcePrivateDriverDataSize = clamp32(f32(r, q.ResourcePrivateDriverDataSize), CAP_BLOB + 1);
	o.pResourcePrivateDriverData = blob(r, b, o.ResourcePrivateDriverDataSize);
	o.TotalPrivateDriverDataBufferSize = clamp32(f32(r, q.TotalPrivateDriverDataSize), CAP_BLOB + 1);
	o.pTotalPrivateDriverDataBuffer = blob(r, b, o.TotalPrivateDriverDataBufferSize);
	struct counts before_counts = counts_now();
	NTSTATUS st = D3DKMTOpenResource(&o);
	dead_fails("OpenResource", st, o.hDevice);
	dead_fails("OpenResource", st, o.hGlobalShare);
	if (st != STATUS_SUCCESS) {
		counts_same("OpenResource", st, &before_counts);
		return st;
	}
	unsigned ad = ad_of(o.hDevice);
	made(o.hResource, K_RESOURCE, ad, o.hDevice, 0, false);
	for (UINT i = 0; i < o.NumAllocations; i++)
		made(o.pOpenAllocationInfo[i].hAllocation, K_ALLOC, ad, o.hDevice, o.hResource, false);
	return st;
}

static NTSTATUS op_lock(struct rd *r, struct blocks *b)
{
	D3DKMT_LOCK l;
	memset(&l, 0, sizeof(l));
	l.hDevice = H(r, K_DEVICE);
	l.hAllocation = H(r, K_ALLOC);
	l.PrivateDriverData = f32(r, 0);
	l.NumPages = clamp32(f32(r, 0), CAP_COUNT);
	l.pPages = array(r, b, l.NumPages, CAP_COUNT, sizeof(UINT));
	for (UINT i = 0; l.pPages && i < l.NumPages; i++)
		((UINT *)l.pPages)[i] = f32(r, i);
	l.Flags.Value = f32(r, 0);
	NTSTATUS st = D3DKMTLock(&l);
	dead_fails("Lock", st, l.hAllocation);
	if (st == STATUS_SUCCESS)
		touch(r, l.pData, alloc_size(l.hAllocation), !l.Flags.ReadOnly);
	return st;
}

static NTSTATUS op_unlock(struct rd *r, struct blocks *b)
{
	D3DKMT_UNLOCK u;
	memset(&u, 0, sizeof(u));
	u.hDevice = H(r, K_DEVICE);
	u.NumAllocations = cnt(r, 1, D3DKMT_MAKERESIDENT_ALLOC_MAX);
	u.phAllocations = harr(r, b, K_ALLOC, u.NumAllocations, D3DKMT_MAKERESIDENT_ALLOC_MAX);
	return D3DKMTUnlock(&u);
}

static NTSTATUS op_lock2(struct rd *r, struct blocks *b)
{
	(void)b;
	D3DKMT_LOCK2 l;
	memset(&l, 0, sizeof(l));
	l.hDevice = H(r, K_DEVICE);
	l.hAllocation = H(r, K_ALLOC);
	l.Flags.Value = f32(r, 0);
	NTSTATUS st = D3DKMTLock2(&l);
	dead_fails("Lock2", st, l.hAllocation);
	if (st == STATUS_SUCCESS)
		touch(r, l.pData, alloc_size(l.hAllocation), true);
	return st;
}

static NTSTATUS op_unlock2(struct rd *r, struct blocks *b)
{
	(void)b;
	D3DKMT_UNLOCK2 u = { .hDevice = H(r, K_DEVICE), .hAllocation = H(r, K_ALLOC) };
	NTSTATUS st = D3DKMTUnlock2(&u);
	dead_fails("Unlock2", st, u.hAllocation);
	return st;
}

static NTSTATUS op_make_resident(struct rd *r, struct blocks *b)
{
	D3DDDI_MAKERESIDENT m;
	memset(&m, 0, sizeof(m));
	m.hPagingQueue = H2(r, K_PQ, K_DEVICE);
	uint32_t n = cnt(r, 1, D3DKMT_MAKERESIDENT_ALLOC_MAX);
	m.NumAllocations = n;
	m.AllocationList = harr(r, b, K_ALLOC, n, D3DKMT_MAKERESIDENT_ALLOC_MAX);
	if (fbool(r, false)) {
		UINT *pri = array(r, b, n, D3DKMT_MAKERESIDENT_ALLOC_MAX, sizeof(UINT));
		for (uint32_t i = 0; pri && i < n && i <= D3DKMT_MAKERESIDENT_ALLOC_MAX; i++)
			pri[i] = i < 8 ? f32(r, D3DDDI_ALLOCATIONPRIORITY_NORMAL) : pri[i % 8];
		m.PriorityList = pri;
	}
	m.Flags.Value = f32(r, 0);
	NTSTATUS st = D3DKMTMakeResident(&m);
	dead_fails("MakeResident", st, m.hPagingQueue);
	return st;
}

static NTSTATUS op_evict(struct rd *r, struct blocks *b)
{
	D3DKMT_EVICT e;
	memset(&e, 0, sizeof(e));
	e.hDevice = H(r, K_DEVICE);
	e.NumAllocations = cnt(r, 1, D3DKMT_MAKERESIDENT_ALLOC_MAX);
	e.AllocationList = harr(r, b, K_ALLOC, e.NumAllocations, D3DKMT_MAKERESIDENT_ALLOC_MAX);
	e.Flags.Value = f32(r, 0);
	NTSTATUS st = D3DKMTEvict(&e);
	dead_fails("Evict", st, e.hDevice);
	return st;
}

/* The three priority and residency calls share their shape: a resource or an
 * allocation list, and an array of one element for a resource (Microsoft's
 * documentation, and dxgkrnl copies one), else one per listed allocation. */
struct prio_args {
	D3DKMT_HANDLE dev, res;
	const D3DKMT_HANDLE *list;
	UINT count;
	void *array;
};

static void prio_args(struct rd *r, struct blocks *b, struct prio_args *a, size_t elem)
{
	a->dev = H(r, K_DEVICE);
	a->res = fbool(r, false) ? H(r, K_RESOURCE) : 0;
	a->count = cnt(r, a->res ? 0 : 1, D3DKMT_MAKERESIDENT_ALLOC_MAX);
	a->list = harr(r, b, K_ALLOC, a->count, D3DKMT_MAKERESIDENT_ALLOC_MAX);
	a->array = array(r, b, a->res ? 1 : a->count, D3DKMT_MAKERESIDENT_ALLOC_MAX, elem);
}

static NTSTATUS op_set_priority(struct rd *r, struct blocks *b)
{
	struct prio_args a;
	prio_args(r, b, &a, sizeof(UINT));
	uint32_t n = a.res ? 1 : clamp32(a.count, D3DKMT_MAKERESIDENT_ALLOC_MAX + 1);
	for (uint32_t i = 0; a.array && i < n; i++)
		((UINT *)a.array)[i] = i < 8 ? f32(r, D3DDDI_ALLOCATIONPRIORITY_HIGH) : ((UINT *)a.array)[i % 8];
	D3DKMT_SETALLOCATIONPRIORITY s = { .hDevice = a.dev, .hResource = a.res, .phAllocationList = a.list,
					   .AllocationCount = a.count, .pPriorities = a.array };
	NTSTATUS st = D3DKMTSetAllocationPriority(&s);
	dead_fails("SetAllocationPriority", st, a.res);
	return st;
}

static NTSTATUS op_get_priority(struct rd *r, struct blocks *b)
{
	struct prio_args a;
	prio_args(r, b, &a, sizeof(UINT));
	D3DKMT_GETALLOCATIONPRIORITY g = { .hDevice = a.dev, .hResource = a.res, .phAllocationList = a.list,
					   .AllocationCount = a.count, .pPriorities = a.array };
	NTSTATUS st = D3DKMTGetAllocationPriority(&g);
	dead_fails("GetAllocationPriority", st, a.res);
	return st;
}

static NTSTATUS op_query_residency(struct rd *r, struct blocks *b)
{
	struct prio_args a;
	prio_args(r, b, &a, sizeof(D3DKMT_ALLOCATIONRESIDENCYSTATUS));
	D3DKMT_QUERYALLOCATIONRESIDENCY q = { .hDevice = a.dev, .hResource = a.res, .phAllocationList = a.list,
					      .AllocationCount = a.count, .pResidencyStatus = a.array };
	NTSTATUS st = D3DKMTQueryAllocationResidency(&q);
	dead_fails("QueryAllocationResidency", st, a.res);
	return st;
}

static NTSTATUS op_query_vidmem(struct rd *r, struct blocks *b)
{
	(void)b;
	D3DKMT_QUERYVIDEOMEMORYINFO q;
	memset(&q, 0, sizeof(q));
	/* A process handle is opaque to the callee: a value, never a pointer to read. */
	q.hProcess = fbool(r, false) ? (HANDLE)(uintptr_t)f64(r, 4) : NULL;
	q.hAdapter = H(r, K_ADAPTER);
	q.MemorySegmentGroup = (D3DKMT_MEMORY_SEGMENT_GROUP)f32(r, 0);
	q.PhysicalAdapterIndex = f32(r, 0);
	NTSTATUS st = D3DKMTQueryVideoMemoryInfo(&q);
	dead_fails("QueryVideoMemoryInfo", st, q.hAdapter);
	return st;
}

static NTSTATUS op_render(struct rd *r, struct blocks *b)
{
	D3DKMT_RENDER rn;
	memset(&rn, 0, sizeof(rn));
	rn.hContext = H(r, K_CONTEXT);
	rn.CommandOffset = f32(r, 0);
	struct cmd c;
	memset(&c, 0, sizeof(c));
	D3DKMT_CREATECONTEXT bufs;
	memset(&bufs, 0, sizeof(bufs));
	if (gpusim_context_buffers(rn.hContext, &bufs) == STATUS_SUCCESS) {
		uint32_t at = rn.CommandOffset < bufs.CommandBufferSize ? rn.CommandOffset & ~3u : 0;
		c.dw = (uint32_t *)((uint8_t *)bufs.pCommandBuffer + at);
		c.cap = clamp32((bufs.CommandBufferSize - at) / 4, 1024);
		c.base = at;
		c.alist = bufs.pAllocationList;
		c.acap = clamp32(bufs.AllocationListSize, 64);
		c.plist = bufs.pPatchLocationList;
		c.pcap = clamp32(bufs.PatchLocationListSize, 128);
		packets(r, &c);
	}
	rn.CommandLength = f32(r, c.n * 4);
	rn.AllocationCount = f32(r, c.na);
	rn.PatchLocationCount = f32(r, c.np);
	uint32_t flags = f32(r, 0);
	memcpy(&rn.Flags, &flags, sizeof(flags));
	rn.PresentHistoryToken = f64(r, 0);
	rn.BroadcastContextCount = cnt(r, 0, D3DDDI_MAX_BROADCAST_CONTEXT);
	for (ULONG i = 0; i < rn.BroadcastContextCount && i < D3DDDI_MAX_BROADCAST_CONTEXT; i++)
		rn.BroadcastContext[i] = H(r, K_CONTEXT);
	rn.PrivateDriverDataSize = clamp32(f32(r, 0), CAP_BLOB);
	rn.pPrivateDriverData = blob(r, b, rn.PrivateDriverDataSize);
	NTSTATUS st = D3DKMTRender(&rn);
	dead_fails("Render", st, rn.hContext);
	return st;
}

static NTSTATUS op_create_sync(struct rd *r, struct blocks *b)
{
	(void)b;
	D3DKMT_CREATESYNCHRONIZATIONOBJECT2 c;
	memset(&c, 0, sizeof(c));
	c.hDevice = H(r, K_DEVICE);
	c.Info.Type = (D3DDDI_SYNCHRONIZATIONOBJECT_TYPE)f32(r, D3DDDI_MONITORED_FENCE);
	c.Info.Flags.Value = f32(r, 0);
	if (fbool(r, false))
		fill(r, c.Info.Reserved.Reserved, sizeof(c.Info.Reserved.Reserved));
	else if (c.Info.Type == D3DDDI_MONITORED_FENCE)
		c.Info.MonitoredFence.InitialFenceValue = f64(r, 0);
	else
		c.Info.Fence.FenceValue = f64(r, 0);
	D3DDDI_SYNCHRONIZATIONOBJECT_TYPE type = c.Info.Type;
	NTSTATUS st = D3DKMTCreateSynchronizationObject2(&c);
	dead_fails("CreateSynchronizationObject2", st, c.hDevice);
	if (st != STATUS_SUCCESS)
		return st;
	made(c.hSyncObject, type == D3DDDI_MONITORED_FENCE ? K_MFENCE : K_FENCE, ad_of(c.hDevice), c.hDevice, 0,
	     false);
	if (type == D3DDDI_MONITORED_FENCE) {
		touch(r, c.Info.MonitoredFence.FenceValueCPUVirtualAddress, sizeof(UINT64), false);
		if (c.Info.MonitoredFence.FenceValueGPUVirtualAddress)
			addr_add(c.Info.MonitoredFence.FenceValueGPUVirtualAddress);
	}
	return st;
}

static NTSTATUS op_signal2(struct rd *r, struct blocks *b)
{
	(void)b;
	D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2 s;
	memset(&s, 0, sizeof(s));
	s.hContext = H2(r, K_CONTEXT, K_VCONTEXT);
	s.ObjectCount = cnt(r, 1, D3DDDI_MAX_OBJECT_SIGNALED);
	for (UINT i = 0; i < s.ObjectCount && i < D3DDDI_MAX_OBJECT_SIGNALED; i++)
		s.ObjectHandleArray[i] = H2(r, K_FENCE, K_MFENCE);
	s.Flags.Value = f32(r, 0);
	s.BroadcastContextCount = cnt(r, 0, D3DDDI_MAX_BROADCAST_CONTEXT);
	for (ULONG i = 0; i < s.BroadcastContextCount && i < D3DDDI_MAX_BROADCAST_CONTEXT; i++)
		s.BroadcastContext[i] = H2(r, K_CONTEXT, K_VCONTEXT);
	s.Fence.FenceValue = f64(r, ++fence_counter);
	NTSTATUS st = D3DKMTSignalSynchronizationObject2(&s);
	dead_fails("SignalSynchronizationObject2", st, s.hContext);
	return st;
}

static NTSTATUS op_wait2(struct rd *r, struct blocks *b)
{
	(void)b;
	D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2 w;
	memset(&w, 0, sizeof(w));
	w.hContext = H2(r, K_CONTEXT, K_VCONTEXT);
	w.ObjectCount = cnt(r, 1, D3DDDI_MAX_OBJECT_WAITED_ON);
	for (UINT i = 0; i < w.ObjectCount && i < D3DDDI_MAX_OBJECT_WAITED_ON; i++)
		w.ObjectHandleArray[i] = H2(r, K_FENCE, K_MFENCE);
	w.Fence.FenceValue = f64(r, fence_counter);
	NTSTATUS st = D3DKMTWaitForSynchronizationObject2(&w);
	dead_fails("WaitForSynchronizationObject2", st, w.hContext);
	return st;
}

static NTSTATUS op_destroy_sync(struct rd *r, struct blocks *b)
{
	(void)b;
	D3DKMT_DESTROYSYNCHRONIZATIONOBJECT d = { .hSyncObject = H2(r, K_MFENCE, K_FENCE) };
	NTSTATUS st = D3DKMTDestroySynchronizationObject(&d);
	dead_fails("DestroySynchronizationObject", st, d.hSyncObject);
	if (st == STATUS_SUCCESS)
		bury(d.hSyncObject);
	return st;
}

static NTSTATUS op_create_pq(struct rd *r, struct blocks *b)
{
	(void)b;
	D3DKMT_CREATEPAGINGQUEUE c;
	memset(&c, 0, sizeof(c));
	c.hDevice = H(r, K_DEVICE);
	c.Priority = (D3DDDI_PAGINGQUEUE_PRIORITY)(int32_t)f32(r, 0);
	c.PhysicalAdapterIndex = f32(r, 0);
	NTSTATUS st = D3DKMTCreatePagingQueue(&c);
	dead_fails("CreatePagingQueue", st, c.hDevice);
	if (st == STATUS_SUCCESS) {
		unsigned ad = ad_of(c.hDevice);
		made(c.hPagingQueue, K_PQ, ad, c.hDevice, 0, false);
		made(c.hSyncObject, K_MFENCE, ad, c.hDevice, c.hPagingQueue, false);
		touch(r, c.FenceValueCPUVirtualAddress, sizeof(UINT64), false);
	}
	return st;
}

static NTSTATUS op_destroy_pq(struct rd *r, struct blocks *b)
{
	(void)b;
	D3DDDI_DESTROYPAGINGQUEUE d = { .hPagingQueue = H(r, K_PQ) };
	NTSTATUS st = D3DKMTDestroyPagingQueue(&d);
	dead_fails("DestroyPagingQueue", st, d.hPagingQueue);
	if (st == STATUS_SUCCESS)
		kill_owned(d.hPagingQueue);
	return st;
}

/* ObjectCount fences and as many values (the two arrays of the FromCpu and
 * FromGpu calls). */
static void fences_and_values(struct rd *r, struct blocks *b, UINT n, const D3DKMT_HANDLE **h,
			      const UINT64 **v, uint64_t typical)
{
	*h = harr(r, b, K_MFENCE, n, D3DDDI_MAX_OBJECT_SIGNALED);
	UINT64 *vals = array(r, b, n, D3DDDI_MAX_OBJECT_SIGNALED, sizeof(UINT64));
	for (UINT i = 0; vals && i < n && i <= D3DDDI_MAX_OBJECT_SIGNALED; i++)
		vals[i] = f64(r, typical);
	*v = vals;
}

static NTSTATUS op_signal_cpu(struct rd *r, struct blocks *b)
{
	D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU s;
	memset(&s, 0, sizeof(s));
	s.hDevice = H(r, K_DEVICE);
	s.ObjectCount = cnt(r, 1, D3DDDI_MAX_OBJECT_SIGNALED);
	fences_and_values(r, b, s.ObjectCount, &s.ObjectHandleArray, &s.FenceValueArray, ++fence_counter);
	s.Flags.Value = f32(r, 0);
	NTSTATUS st = D3DKMTSignalSynchronizationObjectFromCpu(&s);
	dead_fails("SignalSynchronizationObjectFromCpu", st, s.hDevice);
	return st;
}

static NTSTATUS op_wait_cpu(struct rd *r, struct blocks *b)
{
	D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU w;
	memset(&w, 0, sizeof(w));
	w.hDevice = H(r, K_DEVICE);
	w.ObjectCount = cnt(r, 1, D3DDDI_MAX_OBJECT_WAITED_ON);
	fences_and_values(r, b, w.ObjectCount, &w.ObjectHandleArray, &w.FenceValueArray, fence_counter);
	switch (u8(r) % 4) {
	case 1:
		w.hAsyncEvent = (HANDLE)(uintptr_t)evfd;
		break;
	case 2:
		w.hAsyncEvent = (HANDLE)(uintptr_t)0x7ffffff0; /* past any RLIMIT_NOFILE: no descriptor */
		break;
	case 3:
		w.hAsyncEvent = (HANDLE)(uintptr_t)(1ull << 40);
		break;
	default:
		break;
	}
	w.Flags.Value = f32(r, 0);
	NTSTATUS st = D3DKMTWaitForSynchronizationObjectFromCpu(&w);
	dead_fails("WaitForSynchronizationObjectFromCpu", st, w.hDevice);
	return st;
}

static NTSTATUS op_reserve(struct rd *r, struct blocks *b)
{
	(void)b;
	D3DDDI_RESERVEGPUVIRTUALADDRESS v;
	memset(&v, 0, sizeof(v));
	v.hPagingQueue = fbool(r, false) ? H(r, K_ADAPTER) : H2(r, K_PQ, K_DEVICE);
	v.BaseAddress = f64(r, 0);
	v.MinimumAddress = f64(r, 0);
	v.MaximumAddress = f64(r, 0);
	v.Size = f64(r, 0x100000);
	v.Reserved0 = f32(r, D3DDDIGPUVIRTUALADDRESS_RESERVE_NO_ACCESS);
	v.DriverProtection = f64(r, 0);
	NTSTATUS st = D3DKMTReserveGpuVirtualAddress(&v);
	dead_fails("ReserveGpuVirtualAddress", st, v.hPagingQueue);
	if (st == STATUS_SUCCESS)
		va_add(v.VirtualAddress, v.Size, 0, 0);
	return st;
}

/* A VA for an address field: typically the most recent reservation or mapping. */
static uint64_t va_field(struct rd *r, uint64_t typical)
{
	uint8_t sel = u8(r);
	if (sel % 4 == 1) {
		const struct va_rec *m = va_pick(u8(r), false);
		return (m ? m->va : 0) + f64(r, 0);
	}
	return sel % 4 == 2 ? f64(r, typical) : typical;
}

static NTSTATUS op_map(struct rd *r, struct blocks *b)
{
	(void)b;
	D3DDDI_MAPGPUVIRTUALADDRESS m;
	memset(&m, 0, sizeof(m));
	m.hPagingQueue = H2(r, K_PQ, K_DEVICE);
	m.BaseAddress = va_field(r, 0);
	m.MinimumAddress = f64(r, 0);
	m.MaximumAddress = f64(r, 0);
	m.hAllocation = H(r, K_ALLOC);
	m.OffsetInPages = f64(r, 0);
	m.SizeInPages = f64(r, alloc_size(m.hAllocation) / HW_PAGE_SIZE);
	m.Protection.Value = f64(r, 1); /* Write */
	m.DriverProtection = f64(r, 0);
	m.Reserved0 = f32(r, 0);
	m.Reserved1 = f64(r, 0);
	NTSTATUS st = D3DKMTMapGpuVirtualAddress(&m);
	dead_fails("MapGpuVirtualAddress", st, m.hAllocation);
	if (st == STATUS_SUCCESS || st == STATUS_PENDING)
		va_add(m.VirtualAddress, m.SizeInPages * HW_PAGE_SIZE, m.hAllocation,
		       m.OffsetInPages * HW_PAGE_SIZE);
	return st;
}

static NTSTATUS op_update(struct rd *r, struct blocks *b)
{
	D3DKMT_UPDATEGPUVIRTUALADDRESS u;
	memset(&u, 0, sizeof(u));
	u.hDevice = H(r, K_DEVICE);
	u.hContext = H2(r, K_VCONTEXT, K_CONTEXT);
	u.hFenceObject = fbool(r, false) ? H(r, K_MFENCE) : 0;
	u.NumOperations = cnt(r, 1, 4096);
	D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION *ops = array(r, b, u.NumOperations, 4096, sizeof(*ops));
	uint32_t n = clamp32(u.NumOperations, 4097);
	for (uint32_t i = 0; ops && i < n; i++) {
		if (i >= 8) {
			ops[i] = ops[i % 8];
			continue;
		}
		D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION *op = &ops[i];
		op->OperationType = (D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION_TYPE)f32(r, D3DDDI_UPDATEGPUVIRTUALADDRESS_UNMAP);
		const struct va_rec *m = va_pick(0, false);
		uint64_t va = va_field(r, m ? m->va : 0);
		uint64_t size = f64(r, m ? m->size : 0x1000);
		switch (op->OperationType) {
		case D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP:
		case D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP_PROTECT:
			op->MapProtect.BaseAddress = va;
			op->MapProtect.SizeInBytes = size;
			op->MapProtect.hAllocation = H(r, K_ALLOC);
			op->MapProtect.AllocationOffsetInBytes = f64(r, 0);
			op->MapProtect.AllocationSizeInBytes = f64(r, size);
			op->MapProtect.Protection.Value = f64(r, 1);
			op->MapProtect.DriverProtection = f64(r, 0);
			break;
		case D3DDDI_UPDATEGPUVIRTUALADDRESS_COPY:
			op->Copy.SourceAddress = va;
			op->Copy.SizeInBytes = size;
			op->Copy.DestAddress = va_field(r, 0);
			break;
		default:
			op->Unmap.BaseAddress = va;
			op->Unmap.SizeInBytes = size;
			op->Unmap.Protection.Value = f64(r, 0);
			break;
		}
	}
	u.Operations = ops;
	u.Reserved0 = f64(r, 0);
	u.Reserved1 = f64(r, 0);
	u.FenceValue = f64(r, 0);
	u.Flags.Value = f32(r, 0);
	NTSTATUS st = D3DKMTUpdateGpuVirtualAddress(&u);
	dead_fails("UpdateGpuVirtualAddress", st, u.hDevice);
	return st;
}

static NTSTATUS op_free_va(struct rd *r, struct blocks *b)
{
	(void)b;
	D3DKMT_FREEGPUVIRTUALADDRESS f;
	memset(&f, 0, sizeof(f));
	f.hAdapter = H(r, K_ADAPTER);
	const struct va_rec *m = va_pick(u8(r), false);
	f.BaseAddress = f64(r, m ? m->va : 0);
	f.Size = f64(r, m ? m->size : 0);
	NTSTATUS st = D3DKMTFreeGpuVirtualAddress(&f);
	dead_fails("FreeGpuVirtualAddress", st, f.hAdapter);
	return st;
}

/* Packets for a VA submission, written into the allocation mapped at m from
 * byte `off` of the mapping, through Lock2 as a user-mode driver writes them. */
static uint32_t write_va_commands(struct rd *r, const struct va_rec *m, uint64_t off)
{
	uint32_t dw[1024];
	struct cmd c;
	memset(&c, 0, sizeof(c));
	c.dw = dw;
	c.cap = N_ELEMS(dw);
	packets(r, &c);
	struct gpusim_alloc_info info;
	if (gpusim_query_allocation(m->alloc, &info) != STATUS_SUCCESS)
		return c.n;
	uint64_t at = m->alloc_off + off;
	if (at >= info.size || m->size <= off)
		return c.n;
	uint64_t room = info.size - at < m->size - off ? info.size - at : m->size - off;
	D3DKMT_LOCK2 l = { .hDevice = info.device, .hAllocation = m->alloc };
	if (D3DKMTLock2(&l) != STATUS_SUCCESS)
		return c.n;
	memcpy((uint8_t *)l.pData + at, dw, c.n * 4u < room ? c.n * 4u : room);
	D3DKMT_UNLOCK2 u = { .hDevice = info.device, .hAllocation = m->alloc };
	if (D3DKMTUnlock2(&u) != STATUS_SUCCESS)
		die("Unlock2 of an allocation just locked failed");
	return c.n;
}

static NTSTATUS op_submit(struct rd *r, struct blocks *b)
{
	D3DKMT_SUBMITCOMMAND s;
	memset(&s, 0, sizeof(s));
	const struct va_rec *m = va_pick(u8(r), true);
	uint64_t off = f64(r, 0) & ~3ull;
	uint32_t ndw = 0;
	if (m && fbool(r, true))
		ndw = write_va_commands(r, m, off);
	s.Commands = f64(r, m ? m->va + off : 0);
	s.CommandLength = f32(r, ndw * 4);
	uint32_t flags = f32(r, 0);
	memcpy(&s.Flags, &flags, sizeof(flags));
	s.PresentHistoryToken = f64(r, 0);
	s.BroadcastContextCount = cnt(r, 1, D3DDDI_MAX_BROADCAST_CONTEXT);
	for (UINT i = 0; i < s.BroadcastContextCount && i < D3DDDI_MAX_BROADCAST_CONTEXT; i++)
		s.BroadcastContext[i] = H2(r, K_VCONTEXT, K_CONTEXT);
	s.PrivateDriverDataSize = clamp32(f32(r, 0), CAP_BLOB);
	s.pPrivateDriverData = blob(r, b, s.PrivateDriverDataSize);
	s.NumPrimaries = cnt(r, 0, D3DDDI_MAX_WRITTEN_PRIMARIES);
	for (UINT i = 0; i < s.NumPrimaries && i < D3DDDI_MAX_WRITTEN_PRIMARIES; i++)
		s.WrittenPrimaries[i] = H(r, K_ALLOC);
	s.NumHistoryBuffers = clamp32(cnt(r, 0, CAP_COUNT), CAP_COUNT);
	s.HistoryBufferArray = harr(r, b, K_ALLOC, s.NumHistoryBuffers, CAP_COUNT);
	NTSTATUS st = D3DKMTSubmitCommand(&s);
	dead_fails("SubmitCommand", st, s.BroadcastContextCount ? s.BroadcastContext[0] : 0);
	return st;
}

static NTSTATUS op_signal_gpu(struct rd *r, struct blocks *b)
{
	D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU s;
	memset(&s, 0, sizeof(s));
	s.hContext = H2(r, K_VCONTEXT, K_CONTEXT);
	s.ObjectCount = cnt(r, 1, D3DDDI_MAX_OBJECT_SIGNALED);
	const UINT64 *v;
	fences_and_values(r, b, s.ObjectCount, &s.ObjectHandleArray, &v, ++fence_counter);
	s.MonitoredFenceValueArray = v;
	NTSTATUS st = D3DKMTSignalSynchronizationObjectFromGpu(&s);
	dead_fails("SignalSynchronizationObjectFromGpu", st, s.hContext);
	return st;
}

static NTSTATUS op_signal_gpu2(struct rd *r, struct blocks *b)
{
	D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2 s;
	memset(&s, 0, sizeof(s));
	s.ObjectCount = cnt(r, 1, D3DDDI_MAX_OBJECT_SIGNALED);
	const UINT64 *v;
	fences_and_values(r, b, s.ObjectCount, &s.ObjectHandleArray, &v, ++fence_counter);
	s.MonitoredFenceValueArray = v;
	s.Flags.Value = f32(r, 0);
	s.BroadcastContextCount = cnt(r, 1, D3DDDI_MAX_BROADCAST_CONTEXT);
	D3DKMT_HANDLE *ctx = array(r, b, s.BroadcastContextCount, D3DDDI_MAX_BROADCAST_CONTEXT, sizeof(*ctx));
	for (ULONG i = 0; ctx && i < s.BroadcastContextCount && i <= D3DDDI_MAX_BROADCAST_CONTEXT; i++)
		ctx[i] = i < 8 ? H2(r, K_VCONTEXT, K_CONTEXT) : ctx[i % 8];
	s.BroadcastContextArray = ctx;
	return D3DKMTSignalSynchronizationObjectFromGpu2(&s);
}

static NTSTATUS op_wait_gpu(struct rd *r, struct blocks *b)
{
	D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU w;
	memset(&w, 0, sizeof(w));
	w.hContext = H2(r, K_VCONTEXT, K_CONTEXT);
	w.ObjectCount = cnt(r, 1, D3DDDI_MAX_OBJECT_WAITED_ON);
	const UINT64 *v;
	fences_and_values(r, b, w.ObjectCount, &w.ObjectHandleArray, &v, fence_counter);
	w.MonitoredFenceValueArray = v;
	NTSTATUS st = D3DKMTWaitForSynchronizationObjectFromGpu(&w);
	dead_fails("WaitForSynchronizationObjectFromGpu", st, w.hContext);
	return st;
}

/* ---- the gpusim_* test API ------------------------------------------------------------ */

static unsigned ad_field(struct rd *r)
{
	return u8(r) % 4 == 1;
}

static NTSTATUS op_idle(struct rd *r, struct blocks *b)
{
	(void)b;
	return gpusim_idle(luid_field(r));
}

static NTSTATUS op_inject(struct rd *r, struct blocks *b)
{
	(void)b;
	LUID l = luid_field(r);
	uint8_t sel = u8(r);
	enum gpusim_fault fault = sel % 8 == 0 ? GPUSIM_FAULT_DMA_ERROR
				  : sel % 8 < 4 ? (enum gpusim_fault)(GPUSIM_FAULT_DEVICE_REMOVED + sel % 8 - 1)
				  : (enum gpusim_fault)f32(r, GPUSIM_FAULT_DMA_ERROR);
	/* A bad VRAM page is worth most under an allocation: typically the newest's. */
	uint64_t typical = 0;
	struct gpusim_alloc_info info;
	if (fault == GPUSIM_FAULT_VRAM_ERROR &&
	    gpusim_query_allocation(pick(K_ALLOC, false, 0, 0), &info) == STATUS_SUCCESS &&
	    info.segment != GPUSIM_SEG_GART && info.segment != GPUSIM_SEG_SYS)
		typical = info.gpu_address;
	return gpusim_inject(l, fault, f64(r, typical));
}

static NTSTATUS op_queries(struct rd *r, struct blocks *b)
{
	(void)b;
	struct gpusim_alloc_info info;
	D3DKMT_HANDLE h = H(r, K_ALLOC);
	NTSTATUS st = gpusim_query_allocation(h, &info);
	dead_fails("gpusim_query_allocation", st, h);
	if (st == STATUS_SUCCESS &&
	    (!info.size || info.size % HW_PAGE_SIZE || !info.segment || info.segment > GPUSIM_SEG_MAX))
		die("gpusim_query_allocation(0x%08x): size %llu, segment %u", h, (unsigned long long)info.size,
		    info.segment);
	D3DKMT_HANDLE a = 0;
	uint64_t off = 0;
	uint32_t fl = 0;
	const struct va_rec *m = va_pick(u8(r), false);
	NTSTATUS st2 = gpusim_va_query(luid_field(r), f64(r, m ? m->va : 0), &a, &off, &fl);
	if (!known_status(st2))
		die("gpusim_va_query returned 0x%08x", (unsigned)st2);
	return st;
}

static NTSTATUS op_lock_for_load(struct rd *r, struct blocks *b)
{
	(void)b;
	D3DKMT_HANDLE dev = H(r, K_DEVICE), h = H(r, K_ALLOC);
	void *p = NULL;
	NTSTATUS st = gpusim_lock_for_load(dev, h, &p);
	dead_fails("gpusim_lock_for_load", st, h);
	if (st == STATUS_SUCCESS)
		touch(r, p, alloc_size(h), true);
	return st;
}

/* Take a snapshot, restore it beside, check the copy, drop it. */
static NTSTATUS op_snapshot(struct rd *r, struct blocks *b)
{
	(void)b;
	unsigned i = ad_field(r);
	if (!ad_alive[i])
		return STATUS_SUCCESS;
	struct gpusim_snapshot *snap = NULL;
	NTSTATUS st = gpusim_snapshot_take(luids[i], &snap);
	if (st != STATUS_SUCCESS)
		return st;
	LUID l;
	struct gpusim_handle_map *map = NULL;
	size_t n = 0;
	char err[256] = "";
	st = gpusim_snapshot_restore(snap, &l, &map, &n, err, sizeof(err));
	gpusim_snapshot_free(snap);
	if (st != STATUS_SUCCESS)
		die("a snapshot of a live adapter does not restore: 0x%08x %s", (unsigned)st, err);
	free(map);
	char why[256] = "";
	if (gpusim_check_invariants(l, why, sizeof(why)) != STATUS_SUCCESS)
		die("restored snapshot: invariants: %s", why);
	if (gpusim_adapter_destroy(l) != STATUS_SUCCESS)
		die("a restored adapter cannot be destroyed");
	return st;
}

static NTSTATUS op_fence_read(struct rd *r, struct blocks *b)
{
	(void)b;
	const volatile UINT64 *p = NULL;
	D3DKMT_HANDLE h = H(r, K_MFENCE);
	NTSTATUS st = gpusim_fence_cpu_address(h, &p);
	dead_fails("gpusim_fence_cpu_address", st, h);
	if (st == STATUS_SUCCESS)
		(void)*p;
	return st;
}

static NTSTATUS op_destroy_adapter(struct rd *r, struct blocks *b)
{
	(void)b;
	unsigned i = ad_field(r);
	NTSTATUS st = gpusim_adapter_destroy(luids[i]);
	if (st == STATUS_SUCCESS) {
		ad_alive[i] = false;
		kill_adapter(i);
	} else if (ad_alive[i]) {
		die("gpusim_adapter_destroy of a live adapter: 0x%08x", (unsigned)st);
	}
	return st;
}

static const struct {
	const char *name;
	NTSTATUS (*fn)(struct rd *, struct blocks *);
} OPS[] = {
	{ "EnumAdapters2", op_enum2 },
	{ "EnumAdapters3", op_enum3 },
	{ "OpenAdapterFromLuid", op_open },
	{ "CloseAdapter", op_close },
	{ "QueryAdapterInfo", op_query_adapter },
	{ "CreateDevice", op_create_device },
	{ "DestroyDevice", op_destroy_device },
	{ "CreateContext", op_create_context },
	{ "CreateContextVirtual", op_create_vcontext },
	{ "DestroyContext", op_destroy_context },
	{ "GetDeviceState", op_device_state },
	{ "CreateAllocation", op_create_allocation1 },
	{ "CreateAllocation2", op_create_allocation2 },
	{ "DestroyAllocation", op_destroy_allocation1 },
	{ "DestroyAllocation2", op_destroy_allocation2 },
	{ "QueryResourceInfo", op_query_resource },
	{ "OpenResource", op_open_resource },
	{ "Lock", op_lock },
	{ "Unlock", op_unlock },
	{ "Lock2", op_lock2 },
	{ "Unlock2", op_unlock2 },
	{ "MakeResident", op_make_resident },
	{ "Evict", op_evict },
	{ "SetAllocationPriority", op_set_priority },
	{ "GetAllocationPriority", op_get_priority },
	{ "QueryAllocationResidency", op_query_residency },
	{ "QueryVideoMemoryInfo", op_query_vidmem },
	{ "Render", op_render },
	{ "CreateSynchronizationObject2", op_create_sync },
	{ "SignalSynchronizationObject2", op_signal2 },
	{ "WaitForSynchronizationObject2", op_wait2 },
	{ "DestroySynchronizationObject", op_destroy_sync },
	{ "CreatePagingQueue", op_create_pq },
	{ "DestroyPagingQueue", op_destroy_pq },
	{ "SignalSynchronizationObjectFromCpu", op_signal_cpu },
	{ "WaitForSynchronizationObjectFromCpu", op_wait_cpu },
	{ "ReserveGpuVirtualAddress", op_reserve },
	{ "MapGpuVirtualAddress", op_map },
	{ "UpdateGpuVirtualAddress", op_update },
	{ "FreeGpuVirtualAddress", op_free_va },
	{ "SubmitCommand", op_submit },
	{ "SignalSynchronizationObjectFromGpu", op_signal_gpu },
	{ "SignalSynchronizationObjectFromGpu2", op_signal_gpu2 },
	{ "WaitForSynchronizationObjectFromGpu", op_wait_gpu },
	{ "gpusim_idle", op_idle },
	{ "gpusim_inject", op_inject },
	{ "gpusim_query_allocation", op_queries },
	{ "gpusim_lock_for_load", op_lock_for_load },
	{ "gpusim_snapshot", op_snapshot },
	{ "gpusim_fence_cpu_address", op_fence_read },
	{ "gpusim_adapter_destroy", op_destroy_adapter },
};

/* ---- one input ---------------------------------------------------------------------- */

static void must(NTSTATUS st, const char *what)
{
	if (st != STATUS_SUCCESS)
		die("setup: %s: 0x%08x", what, (unsigned)st);
}

static D3DKMT_HANDLE setup_adapter(unsigned i, const char *spec)
{
	struct gpusim_config cfg;
	gpusim_config_default(&cfg);
	if (gpusim_config_parse(&cfg, spec, NULL, 0))
		die("setup: bad configuration %s", spec);
	must(gpusim_adapter_create(&cfg, &luids[i]), "adapter");
	ad_alive[i] = true;
	must(gpusim_subscribe(luids[i], watchdog, (void *)(uintptr_t)i), "subscribe");
	D3DKMT_OPENADAPTERFROMLUID o = { .AdapterLuid = luids[i] };
	must(D3DKMTOpenAdapterFromLuid(&o), "open");
	made(o.hAdapter, K_ADAPTER, i, 0, 0, i == 1);
	D3DKMT_CREATEDEVICE cd = { .hAdapter = o.hAdapter };
	must(D3DKMTCreateDevice(&cd), "device");
	made(cd.hDevice, K_DEVICE, i, 0, 0, i == 1);
	return cd.hDevice;
}

/* Adapter B's objects, one of each kind a field names: the foreign handles. */
static void setup_foreign(D3DKMT_HANDLE dev)
{
	D3DKMT_CREATECONTEXT c = { .hDevice = dev };
	must(D3DKMTCreateContext(&c), "foreign context");
	made(c.hContext, K_CONTEXT, 1, dev, 0, true);
	D3DKMT_CREATECONTEXTVIRTUAL v = { .hDevice = dev };
	must(D3DKMTCreateContextVirtual(&v), "foreign virtual context");
	made(v.hContext, K_VCONTEXT, 1, dev, 0, true);
	struct gpusim_alloc_desc d = { .version = GPUSIM_ALLOC_DESC_VERSION, .flags = GPUSIM_ALLOC_CPU_VISIBLE,
				       .size = 0x10000 };
	D3DDDI_ALLOCATIONINFO2 info = { .pPrivateDriverData = &d, .PrivateDriverDataSize = sizeof(d) };
	D3DKMT_CREATEALLOCATION ca = { .hDevice = dev, .NumAllocations = 1, .pAllocationInfo2 = &info };
	must(D3DKMTCreateAllocation2(&ca), "foreign allocation");
	made(info.hAllocation, K_ALLOC, 1, dev, 0, true);
	D3DKMT_CREATESYNCHRONIZATIONOBJECT2 s = { .hDevice = dev, .Info.Type = D3DDDI_MONITORED_FENCE };
	must(D3DKMTCreateSynchronizationObject2(&s), "foreign fence");
	made(s.hSyncObject, K_MFENCE, 1, dev, 0, true);
	D3DKMT_CREATEPAGINGQUEUE q = { .hDevice = dev };
	must(D3DKMTCreatePagingQueue(&q), "foreign paging queue");
	made(q.hPagingQueue, K_PQ, 1, dev, 0, true);
	made(q.hSyncObject, K_MFENCE, 1, dev, q.hPagingQueue, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nobjs = nvas = naddrs = 0;
	fence_counter = 0;
	packets_left = MAX_PACKETS;
	setup_adapter(0, "vram=16M,visible=4M,gart=8M,sysmem=64M");
	setup_foreign(setup_adapter(1, "vram=8M,visible=4M,gart=4M,sysmem=32M,ring_faults=stop"));

	struct blocks b = { .n = 0 };
	for (unsigned calls = 0; size >= 2 && calls < MAX_CALLS; calls++) {
		unsigned op = data[0] % N_ELEMS(OPS);
		size_t len = data[1] < size - 2 ? data[1] : size - 2;
		struct rd r = { .p = data + 2, .n = len };
		data += 2 + len;
		size -= 2 + len;
		before();
		NTSTATUS st = OPS[op].fn(&r, &b);
		blocks_free(&b);
		if (trace)
			fprintf(stderr, "fuzz_api: %s: 0x%08x\n", OPS[op].name, (unsigned)st);
		after(OPS[op].name, st);
	}

	/* Everything the input made goes with its adapter (see the top comment for
	 * why not gpusim_reset every time). */
	for (unsigned i = 0; i < 2; i++)
		if (ad_alive[i] && gpusim_adapter_destroy(luids[i]) != STATUS_SUCCESS)
			die("cannot destroy adapter %u", i);
	ad_alive[0] = ad_alive[1] = false;
	if (default_made)
		gpusim_reset();
	default_made = false;
	uint64_t drain;
	while (read(evfd, &drain, sizeof(drain)) == (ssize_t)sizeof(drain))
		;
	return 0;
}

/* ---- seeds ---------------------------------------------------------------------------- */

/* Opcodes by name, for the seeds. */
enum {
	S_ENUM2, S_ENUM3, S_OPEN, S_CLOSE, S_QAI, S_CDEV, S_DDEV, S_CCTX, S_CVCTX, S_DCTX, S_DEVSTATE,
	S_CA1, S_CA2, S_DA1, S_DA2, S_QRI, S_OPENRES, S_LOCK, S_UNLOCK, S_LOCK2, S_UNLOCK2, S_MKRES, S_EVICT,
	S_SETPRI, S_GETPRI, S_QRES, S_QVMI, S_RENDER, S_CSYNC, S_SIG2, S_WAIT2, S_DSYNC, S_CPQ, S_DPQ,
	S_SIGCPU, S_WAITCPU, S_RESERVE, S_MAP, S_UPDATE, S_FREE, S_SUBMIT, S_SIGGPU, S_SIGGPU2, S_WAITGPU,
	S_IDLE, S_INJECT, S_QUERY, S_LOAD, S_SNAP, S_FENCEREAD, S_DESTROYAD, S_COUNT
};
_Static_assert(S_COUNT == N_ELEMS(OPS), "a seed name for every call");

/* A seed: records of [op, len, bytes...]; most calls are [op, 0], every field
 * typical. A few field bytes pick something else, as the comments say. */
struct seed {
	const char *name;
	const uint8_t *bytes;
	size_t size;
};
#define SEED(n, ...) { n, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }) }

static const struct seed SEEDS[] = {
	/* WDDM 1: a context, allocations, a FILL by Render into the newest, the CPU
	 * writes the other, residency calls, destroy, idle. */
	SEED("wddm1-render", S_CCTX, 0, S_CA2, 0, S_CA2, 0, S_RENDER, 0, S_LOCK2, 0, S_UNLOCK2, 0, S_LOCK, 0,
	     S_UNLOCK, 0, S_MKRES, 0, S_EVICT, 0, S_QRES, 0, S_RENDER, 0, S_IDLE, 0, S_DEVSTATE, 0, S_DA2, 0,
	     S_IDLE, 0),
	/* WDDM 2: a virtual context, a paging queue, an allocation mapped at a GPU
	 * VA, MakeResident, SubmitCommand (its packets written into the newest
	 * mapping, a FILL of it), a monitored fence signalled by the GPU and waited
	 * for by the CPU. */
	SEED("wddm2-submit", S_CVCTX, 0, S_CPQ, 0, S_CA2, 0, S_MAP, 0, S_MKRES, 0, S_SUBMIT, 0, S_CSYNC, 0,
	     S_SIGGPU, 0, S_WAITCPU, 0, S_IDLE, 0, S_QUERY, 0, S_FENCEREAD, 0),
	/* Fences: a CPU signal and waits (blocking; on the eventfd: the 7th field
	 * byte), a legacy fence (Type 3) through Signal2 and Wait2 on a legacy
	 * context. */
	SEED("fences", S_CSYNC, 0, S_SIGCPU, 0, S_WAITCPU, 0, S_WAITCPU, 7, 0, 0, 0, 0, 0, 0, 1, S_CCTX, 0,
	     S_CSYNC, 3, 0, 3, 3, S_SIG2, 0, S_WAIT2, 0, S_WAITGPU, 0, S_DSYNC, 0),
	/* VA space: a reservation, a mapping into it (BaseAddress from the newest VA
	 * record), unmapped by Update, a mapping anywhere, the reservation freed (the
	 * third newest record). */
	SEED("va", S_CVCTX, 0, S_RESERVE, 0, S_CA2, 0, S_MAP, 4, 0, 1, 0, 0, S_UPDATE, 0, S_MAP, 0, S_FREE, 2,
	     0, 2, S_QUERY, 0),
	/* Resources: a shared resource of two allocations (Flags CreateResource |
	 * CreateShared, NumAllocations 2), its info, opened on a second device, the
	 * priorities and residency of the whole opened resource, destroyed. */
	SEED("resource", S_CA2, 10, 0, 3, 3, 0, 0, 0, 0, 0, 4, 2, S_QRI, 0, S_CDEV, 0, S_OPENRES, 0, S_GETPRI,
	     4, 0, 1, 0, 0, S_QRES, 4, 0, 1, 0, 0, S_SETPRI, 4, 0, 1, 0, 0, S_DA2, 4, 0, 1, 0, 1),
	/* Faults: an injected DMA error under a Render, the device state after, an
	 * uncorrectable VRAM page under the newest allocation, host memory short. */
	SEED("faults", S_CCTX, 0, S_CA2, 0, S_INJECT, 0, S_RENDER, 0, S_IDLE, 0, S_DEVSTATE, 0, S_INJECT, 2, 0,
	     3, S_RENDER, 0, S_IDLE, 0, S_LOCK2, 0, S_GETPRI, 0, S_INJECT, 2, 0, 4, S_CA2, 0, S_EVICT, 0),
	/* The device removed under a locked allocation, queued work and a wait;
	 * then every kind of call, the snapshot of the removed adapter, teardown. */
	SEED("removed", S_CCTX, 0, S_CVCTX, 0, S_CA2, 0, S_RENDER, 0, S_LOCK2, 0, S_CSYNC, 0, S_WAITCPU, 7, 0, 0,
	     0, 0, 0, 0, 1, S_INJECT, 2, 0, 1, S_RENDER, 0, S_CA2, 0, S_LOCK, 0, S_UNLOCK2, 0, S_MAP, 0, S_SUBMIT,
	     0, S_SIGCPU, 0, S_WAITCPU, 0, S_DEVSTATE, 0, S_SNAP, 0, S_QUERY, 0, S_DA2, 0, S_DSYNC, 0, S_DCTX, 0,
	     S_DDEV, 0, S_IDLE, 0),
	/* Stale handles: a device destroyed, then its handles used again. */
	SEED("stale", S_CDEV, 0, S_CCTX, 0, S_CA2, 0, S_DDEV, 0, S_LOCK2, 4, 4, 0, 4, 0, S_RENDER, 2, 4, 0,
	     S_CCTX, 2, 4, 0, S_DCTX, 2, 4, 0, S_CLOSE, 0, S_CDEV, 0),
	/* Adapters: enumeration, opening, queries (node metadata: the 11th type),
	 * closing. */
	SEED("adapters", S_ENUM2, 0, S_ENUM3, 0, S_OPEN, 0, S_QAI, 0, S_QAI, 2, 0, 10, S_QVMI, 0, S_CLOSE, 0),
	/* Every call once, typical fields, in an order where each finds what it
	 * needs: long enough that libFuzzer's length limit starts near a full input. */
	SEED("everything", S_CDEV, 0, S_CCTX, 0, S_CVCTX, 0, S_CPQ, 0, S_CA2, 0, S_CA2, 0, S_CA1, 0, S_CSYNC, 0,
	     S_CSYNC, 3, 0, 3, 3, S_QAI, 0, S_QVMI, 0, S_ENUM2, 0, S_ENUM3, 0, S_OPEN, 0, S_RENDER, 0, S_LOCK, 0,
	     S_UNLOCK, 0, S_LOCK2, 0, S_UNLOCK2, 0, S_MKRES, 0, S_EVICT, 0, S_SETPRI, 0, S_GETPRI, 0, S_QRES, 0,
	     S_RESERVE, 0, S_MAP, 0, S_MKRES, 0, S_SUBMIT, 0, S_CSYNC, 0, S_SIGGPU, 0, S_SIGGPU2, 0, S_WAITGPU, 0,
	     S_SIGCPU, 0, S_WAITCPU, 0, S_SIG2, 0, S_WAIT2, 0, S_UPDATE, 0, S_FREE, 0, S_DEVSTATE, 0, S_QUERY, 0,
	     S_LOAD, 0, S_FENCEREAD, 0, S_SNAP, 0, S_IDLE, 0, S_INJECT, 0, S_RENDER, 0, S_IDLE, 0, S_DA2, 0, S_DA1,
	     0, S_DSYNC, 0, S_DPQ, 0, S_DCTX, 0, S_QRI, 0, S_OPENRES, 0, S_DDEV, 0, S_CLOSE, 0, S_DESTROYAD, 2, 1,
	     0),
	/* WDDM 2 at length: command buffers mapped and written again and again,
	 * submitted, fenced from the GPU, waited for from the CPU, unmapped. */
	SEED("wddm2-long", S_CVCTX, 0, S_CPQ, 0, S_CSYNC, 0, S_CA2, 0, S_MAP, 0, S_MKRES, 0, S_SUBMIT, 0,
	     S_SIGGPU, 0, S_WAITCPU, 0, S_CA2, 0, S_MAP, 0, S_MKRES, 0, S_SUBMIT, 0, S_SUBMIT, 0, S_SIGGPU, 0,
	     S_WAITGPU, 0, S_WAITCPU, 0, S_EVICT, 0, S_SUBMIT, 0, S_MKRES, 0, S_SUBMIT, 0, S_UPDATE, 0, S_SUBMIT, 0,
	     S_IDLE, 0, S_CA2, 0, S_MAP, 0, S_LOCK2, 0, S_SUBMIT, 0, S_UNLOCK2, 0, S_SUBMIT, 0, S_SIGGPU2, 0,
	     S_WAITCPU, 0, S_DA2, 0, S_SUBMIT, 0, S_IDLE, 0, S_QUERY, 0),
	/* A snapshot of a worked adapter restored beside it. */
	SEED("snapshot", S_CCTX, 0, S_CA2, 0, S_RENDER, 0, S_CVCTX, 0, S_CA2, 0, S_MAP, 0, S_CSYNC, 0, S_SNAP,
	     0, S_LOAD, 0),
};

static void write_seeds(const char *dir)
{
	for (size_t i = 0; i < N_ELEMS(SEEDS); i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, SEEDS[i].name);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(SEEDS[i].bytes, 1, SEEDS[i].size, f) != SEEDS[i].size || fclose(f)) {
			fprintf(stderr, "fuzz_api: cannot write %s: %s\n", path, strerror(errno));
			exit(1);
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = getenv("GPUSIM_FUZZ_API_SEEDS");
	if (dir) {
		write_seeds(dir);
		exit(0);
	}
	trace = getenv("GPUSIM_FUZZ_API_TRACE") != NULL;
	evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (evfd < 0)
		die("eventfd: %s", strerror(errno));
	return 0;
}
