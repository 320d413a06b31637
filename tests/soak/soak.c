/*
 * A threaded soak of libkmt (issue 15, part 6): THREADS threads share ADAPTERS
 * adapters and DEVICES devices and run SOAK_OPS operations between them, drawn
 * from per-thread deterministic generators: create, destroy, write, verify,
 * lock, render, make resident, evict, monitored-fence waits, queries, snapshots
 * of an idle adapter restored into a new one, and device and adapter teardown
 * racing everything else. Every allocation belongs to one thread, which keeps its
 * expected bytes (the shadow); at the end every live allocation is read back and
 * compared byte for byte, the invariants are checked, the allocation counts are
 * compared with the shadows (nothing leaked) and everything is torn down.
 *
 * Usage: soak [OPS] (or SOAK_OPS=N; SOAK_SEED=N changes the generators). Exit 0
 * when everything held, 1 on any mismatch or unexpected status, 2 on bad usage.
 *
 * The one-lock API serializes the calls themselves; what races is their order,
 * and the client's own use of memory the API hands out. The soak keeps that use
 * legal with two kinds of reader-writer locks of its own, as a multithreaded
 * driver would: a device slot's lock is held for reading while a thread touches
 * a Lock pointer or a context's command buffer of that device, and for writing
 * while the device (or its adapter) is destroyed, since both free that memory
 * (kmt/README.md: a client writing through a Lock pointer while another thread
 * destroys the device crashes, as on Windows); an adapter slot's lock is held for
 * reading by every operation on the adapter and for writing by a snapshot, which
 * needs the adapter idle from take to restore. Every API call other than those
 * pointer windows runs unguarded against teardowns, so a call can meet its
 * device destroyed at any point: it must then answer STATUS_INVALID_PARAMETER,
 * and may answer it only then.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <gpusim/d3dkmthk.h>
#include <gpusim/gpusim.h>
#include <gpusim/snapshot.h>

#define THREADS 4
#define ADAPTERS 2
#define DEVICES 3
#define MAX_LIVE 24      /* allocations a thread keeps at most */
#define MAX_PAGES 8      /* an allocation is 1..8 pages */
#define PG 4096u
#define RECENT 64        /* handles of any thread's allocations, for foreign queries */
#define DEFAULT_OPS 20000
/* Small adapters, so that four threads push each other's allocations around
 * (about 1.5 MiB of allocations live against 1 MiB of VRAM per adapter). */
#define ADAPTER_CONFIG "vram=1M,visible=512K,gart=2M,sysmem=64M"

/* ---- what is counted ---------------------------------------------------------------- */

enum op {
	OP_CREATE, OP_DESTROY, OP_WRITE, OP_VERIFY, OP_LOCK, OP_UNLOCK, OP_RENDER, OP_RESIDENT, OP_EVICT,
	OP_SYNC, OP_QUERY, OP_SNAPSHOT, OP_DEV_DESTROY, OP_DEV_CREATE, OP_AD_DESTROY, OP_STALE, OP_FINAL,
	NOPS
};
static const char *const op_names[NOPS] = {
	"create", "destroy", "write", "verify", "lock", "unlock", "render", "make-resident", "evict",
	"sync", "query", "snapshot", "device-destroy", "device-create", "adapter-destroy", "stale-probe",
	"final-verify",
};

/* Statuses of calls, and two outcomes of a poll on a wait's eventfd: fired
 * within the timeout (often by another thread's call), or timed out. */
enum st_col { C_SUCCESS, C_PENDING, C_INVALID, C_NO_MEMORY, C_NO_VIDEO, C_BUSY, C_LOCKED, C_DEADLOCK,
	      C_FIRED, C_TIMEOUT, C_OTHER, NCOLS };
static const char *const col_names[NCOLS] = {
	"SUCCESS", "PENDING", "INVALID_PARAM", "NO_MEMORY", "NO_VIDEO_MEM", "ALLOC_BUSY", "RENDER_LOCKED",
	"POSS_DEADLOCK", "poll-fired", "poll-timeout", "other",
};

static int col_of(NTSTATUS st)
{
	switch (st) {
	case STATUS_SUCCESS: return C_SUCCESS;
	case STATUS_PENDING: return C_PENDING;
	case STATUS_INVALID_PARAMETER: return C_INVALID;
	case STATUS_NO_MEMORY: return C_NO_MEMORY;
	case STATUS_GRAPHICS_NO_VIDEO_MEMORY: return C_NO_VIDEO;
	case STATUS_GRAPHICS_ALLOCATION_BUSY: return C_BUSY;
	case STATUS_GRAPHICS_CANT_RENDER_LOCKED_ALLOCATION: return C_LOCKED;
	case STATUS_POSSIBLE_DEADLOCK: return C_DEADLOCK;
	default: return C_OTHER;
	}
}

/* ---- the shared world ---------------------------------------------------------------- */

/* One life of an adapter slot or a device slot. Its fields do not change once it
 * is published; `dying` is set before the destroy call and `dead` after it
 * returned, so a call that began after `dead` was seen must fail look-up, and a
 * call may fail look-up only once `dying` is set. Incarnations are kept to the
 * end: threads may hold pointers to old ones. */
struct ad_inc {
	int slot;
	LUID luid;
	D3DKMT_HANDLE h;           /* an open of it, for CreateDevice and queries */
	atomic_bool dying, dead;
	struct ad_inc *older;
};

struct dev_inc {
	int slot;
	struct ad_inc *ad;
	D3DKMT_HANDLE h;
	atomic_bool dying, dead;
	struct dev_inc *older;
};

static struct {
	pthread_rwlock_t rw;
	_Atomic(struct ad_inc *) cur;
} ads[ADAPTERS];

static struct {
	pthread_rwlock_t rw;
	_Atomic(struct dev_inc *) cur;  /* NULL: the slot waits for a device-create */
} devs[DEVICES];

static pthread_mutex_t incs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ad_inc *all_ads;
static struct dev_inc *all_devs;
static atomic_uint deaths;          /* device incarnations that died: threads sweep */
static _Atomic D3DKMT_HANDLE recent[RECENT];
static atomic_uint recent_at;
static struct gpusim_config adapter_cfg;

/* ---- a thread ------------------------------------------------------------------------ */

struct obj {
	D3DKMT_HANDLE h;
	struct dev_inc *dev;
	uint32_t size;
	uint32_t resident;         /* MakeResident minus Evict, through this handle */
	bool held;                 /* locked across operations (D3DKMTLock, not Lock2) */
	uint8_t *shadow;           /* the bytes it must hold */
};

/* The thread's objects on one device incarnation. */
struct tdev {
	struct dev_inc *inc;
	D3DKMT_CREATECONTEXT ctx;  /* hContext 0 until made */
	D3DKMT_HANDLE fence;       /* a monitored fence, 0 until made */
	uint64_t fence_value;      /* the last value signalled */
	bool gpu_pending;          /* a GPU signal of it may still be queued (its wait
				    * was given up): a CPU signal could be overtaken */
	const volatile UINT64 *fence_cpu;
};

struct thr {
	int id;
	pthread_t tid;
	uint64_t rng;
	uint64_t nops;
	enum op cur_op;            /* what the current operation is counted as */
	struct obj objs[MAX_LIVE];
	int n;
	struct tdev td[DEVICES];
	int held_left;             /* operations until the held lock is released */
	unsigned deaths_seen;
	uint64_t ops[NOPS];
	uint64_t calls[NOPS][NCOLS];
	int failures;
	char first[512];
};

static struct thr thr[THREADS];
static atomic_int total_failures;

static uint64_t rnd(struct thr *t)
{
	/* splitmix64: one word of state, good enough for choosing operations. */
	uint64_t z = (t->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(struct thr *t, uint32_t n)
{
	return (uint32_t)(rnd(t) % n);
}

static void fail(struct thr *t, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!t->failures++)
		snprintf(t->first, sizeof(t->first), "%s", msg);
	/* The first few in full: later ones are usually the same story. */
	if (atomic_fetch_add(&total_failures, 1) < 20)
		fprintf(stderr, "soak: thread %d, op %" PRIu64 ": %s\n", t->id, t->nops, msg);
}

static void count(struct thr *t, enum op op, NTSTATUS st)
{
	t->calls[op][col_of(st)]++;
}

/*
 * The verdict on a call about objects of an incarnation whose flags are dying
 * and dead: `dead_before` is `dead` read before the call. Look-up must fail
 * (STATUS_INVALID_PARAMETER) when the incarnation was dead before the call, and
 * may fail only once it is dying; otherwise the status must be one of ok[].
 * Returns whether the call succeeded in the sense of ok[0].
 */
static bool judge(struct thr *t, enum op op, const char *what, NTSTATUS st, atomic_bool *dying, bool dead_before,
		  int nok, const NTSTATUS *ok)
{
	count(t, op, st);
	if (dead_before) {
		if (st != STATUS_INVALID_PARAMETER)
			fail(t, "%s: status 0x%08x on a destroyed object, expected STATUS_INVALID_PARAMETER", what,
			     (unsigned)st);
		return false;
	}
	if (st == STATUS_INVALID_PARAMETER) {
		for (int i = 0; i < nok; i++)
			if (ok[i] == st)
				return i == 0;
		if (!atomic_load(dying))
			fail(t, "%s: STATUS_INVALID_PARAMETER while its device lives", what);
		return false;
	}
	for (int i = 0; i < nok; i++)
		if (ok[i] == st)
			return i == 0;
	fail(t, "%s: unexpected status 0x%08x", what, (unsigned)st);
	return false;
}

#define OK(...) (int)(sizeof((NTSTATUS[]){ __VA_ARGS__ }) / sizeof(NTSTATUS)), (const NTSTATUS[]){ __VA_ARGS__ }

/* ---- the client's locks ------------------------------------------------------------ */

static void rwlock_init(pthread_rwlock_t *rw)
{
	/* Writer-preferring: with readers always about, glibc's default would
	 * starve a teardown or a snapshot for the whole run. */
	pthread_rwlockattr_t a;
	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(rw, &a);
	pthread_rwlockattr_destroy(&a);
}

/* Lock order: one adapter slot, then device slots in ascending order. */
static void ad_read(int a) { pthread_rwlock_rdlock(&ads[a].rw); }
static void ad_unlock(int a) { pthread_rwlock_unlock(&ads[a].rw); }
static void dev_read(int d) { pthread_rwlock_rdlock(&devs[d].rw); }
static void dev_write(int d) { pthread_rwlock_wrlock(&devs[d].rw); }
static void dev_unlock(int d) { pthread_rwlock_unlock(&devs[d].rw); }

static struct ad_inc *ad_new(int slot, struct thr *t)
{
	struct ad_inc *ai = calloc(1, sizeof(*ai));
	if (!ai) {
		fail(t, "out of host memory");
		return NULL;
	}
	ai->slot = slot;
	NTSTATUS st = gpusim_adapter_create(&adapter_cfg, &ai->luid);
	if (st) {
		fail(t, "gpusim_adapter_create: 0x%08x", (unsigned)st);
		free(ai);
		return NULL;
	}
	D3DKMT_OPENADAPTERFROMLUID o = { .AdapterLuid = ai->luid };
	if ((st = D3DKMTOpenAdapterFromLuid(&o))) {
		fail(t, "D3DKMTOpenAdapterFromLuid: 0x%08x", (unsigned)st);
		free(ai);
		return NULL;
	}
	ai->h = o.hAdapter;
	pthread_mutex_lock(&incs_mu);
	ai->older = all_ads;
	all_ads = ai;
	pthread_mutex_unlock(&incs_mu);
	return ai;
}

/* A device on ai in slot d; the caller holds the slot for writing (or is alone). */
static struct dev_inc *dev_new(int d, struct ad_inc *ai, struct thr *t)
{
	struct dev_inc *di = calloc(1, sizeof(*di));
	if (!di) {
		fail(t, "out of host memory");
		return NULL;
	}
	di->slot = d;
	di->ad = ai;
	D3DKMT_CREATEDEVICE cd = { .hAdapter = ai->h };
	NTSTATUS st = D3DKMTCreateDevice(&cd);
	count(t, OP_DEV_CREATE, st);
	if (st) {
		fail(t, "D3DKMTCreateDevice on a live adapter: 0x%08x", (unsigned)st);
		free(di);
		return NULL;
	}
	di->h = cd.hDevice;
	pthread_mutex_lock(&incs_mu);
	di->older = all_devs;
	all_devs = di;
	pthread_mutex_unlock(&incs_mu);
	atomic_store(&devs[d].cur, di);
	return di;
}

/* ---- allocations and their bytes ------------------------------------------------------ */

static NTSTATUS alloc_create(D3DKMT_HANDLE dev, uint32_t size, uint32_t flags, D3DKMT_HANDLE *out)
{
	struct gpusim_alloc_desc d;
	memset(&d, 0, sizeof(d));
	d.version = GPUSIM_ALLOC_DESC_VERSION;
	d.flags = flags;
	d.size = size;
	D3DDDI_ALLOCATIONINFO2 info;
	memset(&info, 0, sizeof(info));
	info.pPrivateDriverData = &d;
	info.PrivateDriverDataSize = sizeof(d);
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = dev;
	ca.NumAllocations = 1;
	ca.pAllocationInfo2 = &info;
	NTSTATUS st = D3DKMTCreateAllocation2(&ca);
	*out = st == STATUS_SUCCESS ? info.hAllocation : 0;
	return st;
}

static NTSTATUS alloc_destroy(D3DKMT_HANDLE dev, D3DKMT_HANDLE h)
{
	D3DKMT_DESTROYALLOCATION2 da;
	memset(&da, 0, sizeof(da));
	da.hDevice = dev;
	da.phAllocationList = &h;
	da.AllocationCount = 1;
	return D3DKMTDestroyAllocation2(&da);
}

static NTSTATUS lock2(D3DKMT_HANDLE dev, D3DKMT_HANDLE h, void **p)
{
	D3DKMT_LOCK2 lk = { .hDevice = dev, .hAllocation = h };
	NTSTATUS st = D3DKMTLock2(&lk);
	*p = st == STATUS_SUCCESS ? lk.pData : NULL;
	return st;
}

static NTSTATUS unlock2(D3DKMT_HANDLE dev, D3DKMT_HANDLE h)
{
	D3DKMT_UNLOCK2 ul = { .hDevice = dev, .hAllocation = h };
	return D3DKMTUnlock2(&ul);
}

/* The first byte where a and b differ, or -1. */
static long first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (!memcmp(a, b, n))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return (long)i;
	return -1;
}

static void check_bytes(struct thr *t, const char *what, const struct obj *o, const uint8_t *p)
{
	long at = first_diff(p, o->shadow, o->size);
	if (at >= 0)
		fail(t, "%s: allocation 0x%x (%u bytes) differs at byte %ld: 0x%02x, expected 0x%02x", what, o->h,
		     o->size, at, p[at], o->shadow[at]);
}

static void pattern(struct thr *t, uint8_t *dst, uint32_t len)
{
	uint64_t x = rnd(t);
	for (uint32_t i = 0; i < len; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(dst + i, &x, len - i < 8 ? len - i : 8);
	}
}

static struct obj *pick(struct thr *t)
{
	return t->n ? &t->objs[below(t, (uint32_t)t->n)] : NULL;
}

static void drop(struct thr *t, struct obj *o)
{
	free(o->shadow);
	*o = t->objs[--t->n];
}

/* ---- objects of this thread on a device: its context and fence ------------------------- */

static struct tdev *tdev_of(struct thr *t, struct dev_inc *di)
{
	struct tdev *td = &t->td[di->slot];
	if (td->inc != di) {
		/* The slot's old device is dead (it was replaced after its destroy
		 * returned), its context and fence with it (the sweep probes them
		 * when it gets there first). */
		memset(td, 0, sizeof(*td));
		td->inc = di;
	}
	return td;
}

/* The thread's context on di, made on first use; false if it could not be. The
 * caller holds the device slot for reading (the buffers are the device's). */
static bool tdev_context(struct thr *t, struct tdev *td, enum op op)
{
	if (td->ctx.hContext)
		return true;
	D3DKMT_CREATECONTEXT c;
	memset(&c, 0, sizeof(c));
	c.hDevice = td->inc->h;
	bool dead = atomic_load(&td->inc->dead);
	NTSTATUS st = D3DKMTCreateContext(&c);
	if (!judge(t, op, "D3DKMTCreateContext", st, &td->inc->dying, dead, OK(STATUS_SUCCESS)))
		return false;
	td->ctx = c;
	return true;
}

static bool tdev_fence(struct thr *t, struct tdev *td, enum op op)
{
	if (td->fence)
		return true;
	D3DKMT_CREATESYNCHRONIZATIONOBJECT2 cs;
	memset(&cs, 0, sizeof(cs));
	cs.hDevice = td->inc->h;
	cs.Info.Type = D3DDDI_MONITORED_FENCE;
	bool dead = atomic_load(&td->inc->dead);
	NTSTATUS st = D3DKMTCreateSynchronizationObject2(&cs);
	if (!judge(t, op, "D3DKMTCreateSynchronizationObject2", st, &td->inc->dying, dead, OK(STATUS_SUCCESS)))
		return false;
	td->fence = cs.hSyncObject;
	td->fence_value = 0;
	td->fence_cpu = cs.Info.MonitoredFence.FenceValueCPUVirtualAddress;
	return true;
}

/* ---- stale handles --------------------------------------------------------------------- */

/* Every call on a handle of a destroyed device answers STATUS_INVALID_PARAMETER:
 * probe each with one of several calls, then forget it. */
static void probe_stale(struct thr *t, struct obj *o)
{
	NTSTATUS st;
	const char *what;
	switch (below(t, 5)) {
	case 0: {
		void *p;
		st = lock2(o->dev->h, o->h, &p);
		what = "D3DKMTLock2 of a destroyed device's allocation";
		break;
	}
	case 1:
		st = alloc_destroy(o->dev->h, o->h);
		what = "D3DKMTDestroyAllocation2 of a destroyed device's allocation";
		break;
	case 2: {
		struct gpusim_alloc_info info;
		st = gpusim_query_allocation(o->h, &info);
		what = "gpusim_query_allocation of a destroyed device's allocation";
		break;
	}
	case 3: {
		D3DDDI_MAKERESIDENT mr;
		memset(&mr, 0, sizeof(mr));
		mr.hPagingQueue = o->dev->h;
		mr.NumAllocations = 1;
		mr.AllocationList = &o->h;
		st = D3DKMTMakeResident(&mr);
		what = "D3DKMTMakeResident of a destroyed device's allocation";
		break;
	}
	default:
		st = o->held ? unlock2(o->dev->h, o->h) : alloc_destroy(o->dev->h, o->h);
		what = "unlock or destroy of a destroyed device's allocation";
		break;
	}
	judge(t, OP_STALE, what, st, &o->dev->dying, true, OK(STATUS_INVALID_PARAMETER));
}

static void sweep(struct thr *t)
{
	unsigned d = atomic_load(&deaths);
	if (d == t->deaths_seen)
		return;
	t->deaths_seen = d;
	for (int i = 0; i < t->n;) {
		struct obj *o = &t->objs[i];
		if (!atomic_load(&o->dev->dead)) {
			i++;
			continue;
		}
		probe_stale(t, o);
		if (o->held)
			t->held_left = 0;
		drop(t, o);
	}
	for (int s = 0; s < DEVICES; s++) {
		struct tdev *td = &t->td[s];
		if (!td->inc || !atomic_load(&td->inc->dead))
			continue;
		if (td->ctx.hContext) {
			D3DKMT_DESTROYCONTEXT dc = { .hContext = td->ctx.hContext };
			judge(t, OP_STALE, "D3DKMTDestroyContext of a destroyed device's context",
			      D3DKMTDestroyContext(&dc), &td->inc->dying, true, OK(STATUS_INVALID_PARAMETER));
		}
		if (td->fence) {
			D3DKMT_DESTROYSYNCHRONIZATIONOBJECT ds = { .hSyncObject = td->fence };
			judge(t, OP_STALE, "D3DKMTDestroySynchronizationObject of a destroyed device's fence",
			      D3DKMTDestroySynchronizationObject(&ds), &td->inc->dying, true,
			      OK(STATUS_INVALID_PARAMETER));
		}
		memset(td, 0, sizeof(*td));
	}
}

/* ---- the operations ------------------------------------------------------------------- */

static void op_dev_create(struct thr *t, int d)
{
	int a = (int)below(t, ADAPTERS);
	ad_read(a);
	dev_write(d);
	/* No adapter teardown runs while a device slot is held for writing. */
	if (!atomic_load(&devs[d].cur))
		dev_new(d, atomic_load(&ads[a].cur), t);
	dev_unlock(d);
	ad_unlock(a);
}

/* A live device incarnation from a random slot, making one if the slot is empty;
 * NULL when the slot was empty (the operation became a device-create). */
static struct dev_inc *pick_device(struct thr *t)
{
	int d = (int)below(t, DEVICES);
	struct dev_inc *di = atomic_load(&devs[d].cur);
	if (!di) {
		t->cur_op = OP_DEV_CREATE;
		op_dev_create(t, d);
	}
	return di;
}

static void op_create(struct thr *t)
{
	struct dev_inc *di = pick_device(t);
	if (!di)
		return;
	if (t->n == MAX_LIVE) {
		/* Full: this create makes room first. */
		struct obj *o = pick(t);
		int a = o->dev->ad->slot;
		ad_read(a);
		bool dead = atomic_load(&o->dev->dead);
		NTSTATUS st = alloc_destroy(o->dev->h, o->h);
		judge(t, OP_DESTROY, "D3DKMTDestroyAllocation2", st, &o->dev->dying, dead, OK(STATUS_SUCCESS));
		ad_unlock(a);
		if (o->held)
			t->held_left = 0;
		drop(t, o);
	}
	int a = di->ad->slot;
	uint32_t size = (1 + below(t, MAX_PAGES)) * PG;
	/* Half expect CPU access (visible VRAM or the GART first), half GPU only. */
	uint32_t flags = below(t, 2) ? GPUSIM_ALLOC_CPU_VISIBLE : 0;
	D3DKMT_HANDLE h;
	ad_read(a);
	bool dead = atomic_load(&di->dead);
	NTSTATUS st = alloc_create(di->h, size, flags, &h);
	bool ok = judge(t, OP_CREATE, "D3DKMTCreateAllocation2", st, &di->dying, dead,
			OK(STATUS_SUCCESS, STATUS_NO_MEMORY));
	ad_unlock(a);
	if (!ok)
		return;
	struct obj *o = &t->objs[t->n];
	memset(o, 0, sizeof(*o));
	o->h = h;
	o->dev = di;
	o->size = size;
	o->shadow = calloc(1, size); /* a new allocation reads as zeros */
	if (!o->shadow) {
		fail(t, "out of host memory");
		return;
	}
	t->n++;
	atomic_store(&recent[atomic_fetch_add(&recent_at, 1) % RECENT], h);
}

static void op_destroy(struct thr *t)
{
	struct obj *o = pick(t);
	if (!o)
		return;
	int a = o->dev->ad->slot;
	ad_read(a);
	bool dead = atomic_load(&o->dev->dead);
	NTSTATUS st = alloc_destroy(o->dev->h, o->h);
	judge(t, OP_DESTROY, "D3DKMTDestroyAllocation2", st, &o->dev->dying, dead, OK(STATUS_SUCCESS));
	ad_unlock(a);
	if (o->held)
		t->held_left = 0;
	drop(t, o);
}

/*
 * Lock2, then write (or check) a range through the pointer, then Unlock2. The
 * pointer is used only while the device slot is held for reading; the Unlock2
 * comes after, so a teardown may fall between the two, and the Unlock2 then
 * fails look-up.
 */
static void op_cpu(struct thr *t, bool write)
{
	struct obj *o = pick(t);
	if (!o)
		return;
	enum op op = write ? OP_WRITE : OP_VERIFY;
	int a = o->dev->ad->slot, d = o->dev->slot;
	uint32_t off = 0, len = o->size;
	if (write && below(t, 2)) {
		off = below(t, o->size);
		len = 1 + below(t, o->size - off);
	}
	ad_read(a);
	dev_read(d);
	/* Under the slot's read lock, dying means destroyed already. */
	bool dead = atomic_load(&o->dev->dying);
	void *p;
	NTSTATUS st = lock2(o->dev->h, o->h, &p);
	bool ok = judge(t, op, "D3DKMTLock2", st, &o->dev->dying, dead,
			OK(STATUS_SUCCESS, STATUS_GRAPHICS_NO_VIDEO_MEMORY));
	if (ok && write) {
		pattern(t, o->shadow + off, len);
		memcpy((uint8_t *)p + off, o->shadow + off, len);
	} else if (ok) {
		check_bytes(t, "verify", o, p);
	}
	dev_unlock(d);
	if (ok) {
		dead = atomic_load(&o->dev->dead);
		st = unlock2(o->dev->h, o->h);
		judge(t, op, "D3DKMTUnlock2", st, &o->dev->dying, dead, OK(STATUS_SUCCESS));
	}
	ad_unlock(a);
}

/* D3DKMTLock for reading without waiting, the bytes checked; a third of the
 * time the lock is kept over the next few operations (the pointer is not). */
static void op_lock(struct thr *t)
{
	struct obj *o = pick(t);
	if (!o || t->held_left)
		return;
	int a = o->dev->ad->slot, d = o->dev->slot;
	ad_read(a);
	dev_read(d);
	bool dead = atomic_load(&o->dev->dying);
	D3DKMT_LOCK lk;
	memset(&lk, 0, sizeof(lk));
	lk.hDevice = o->dev->h;
	lk.hAllocation = o->h;
	lk.Flags.ReadOnly = 1;
	lk.Flags.DonotWait = 1;
	NTSTATUS st = D3DKMTLock(&lk);
	/* Busy: its last GPU work has not run yet (nobody ran the device since). */
	bool ok = judge(t, OP_LOCK, "D3DKMTLock", st, &o->dev->dying, dead,
			OK(STATUS_SUCCESS, STATUS_GRAPHICS_ALLOCATION_BUSY, STATUS_GRAPHICS_NO_VIDEO_MEMORY));
	if (ok)
		check_bytes(t, "read-only lock", o, lk.pData);
	dev_unlock(d);
	if (ok && below(t, 3) == 0) {
		o->held = true;
		t->held_left = 1 + (int)below(t, 8);
	} else if (ok) {
		dead = atomic_load(&o->dev->dead);
		st = unlock2(o->dev->h, o->h);
		judge(t, OP_LOCK, "D3DKMTUnlock2", st, &o->dev->dying, dead, OK(STATUS_SUCCESS));
	}
	ad_unlock(a);
}

static void op_unlock_held(struct thr *t)
{
	for (int i = 0; i < t->n; i++) {
		struct obj *o = &t->objs[i];
		if (!o->held)
			continue;
		int a = o->dev->ad->slot;
		ad_read(a);
		bool dead = atomic_load(&o->dev->dead);
		D3DKMT_UNLOCK ul = { .hDevice = o->dev->h, .NumAllocations = 1, .phAllocations = &o->h };
		judge(t, OP_UNLOCK, "D3DKMTUnlock", D3DKMTUnlock(&ul), &o->dev->dying, dead, OK(STATUS_SUCCESS));
		ad_unlock(a);
		o->held = false;
	}
	t->held_left = 0;
}

/* The dwords of a command and its patch locations, written into the context's
 * buffers (the caller holds the device slot for reading). */
struct cmd {
	struct tdev *td;
	uint32_t ndw, nalloc, npatch;
};

static void cmd_dw(struct cmd *c, uint32_t v)
{
	((uint32_t *)c->td->ctx.pCommandBuffer)[c->ndw++] = v;
}

static uint32_t cmd_list(struct cmd *c, D3DKMT_HANDLE h)
{
	D3DDDI_ALLOCATIONLIST *l = c->td->ctx.pAllocationList;
	for (uint32_t i = 0; i < c->nalloc; i++)
		if (l[i].hAllocation == h)
			return i;
	memset(&l[c->nalloc], 0, sizeof(l[c->nalloc]));
	l[c->nalloc].hAllocation = h;
	return c->nalloc++;
}

static void cmd_addr(struct cmd *c, D3DKMT_HANDLE h, uint32_t offset)
{
	D3DDDI_PATCHLOCATIONLIST *pl = &c->td->ctx.pPatchLocationList[c->npatch++];
	memset(pl, 0, sizeof(*pl));
	pl->AllocationIndex = cmd_list(c, h);
	pl->AllocationOffset = offset;
	pl->PatchOffset = c->ndw * 4;
	cmd_dw(c, 0);
	cmd_dw(c, 0);
}

/*
 * GPU work on the thread's own allocations: a FILL of a range, or a COPY from
 * another of its allocations on the same device, a quarter of the time with the
 * held (locked) allocation in the list too. The shadow follows the work
 * at submission: whoever reads the bytes later waits for it (Lock waits, or
 * with DonotWait answers busy).
 */
static void op_render(struct thr *t)
{
	struct obj *o = pick(t);
	if (!o)
		return;
	struct dev_inc *di = o->dev;
	struct obj *src = NULL, *held = NULL;
	for (int i = 0; i < t->n; i++) {
		struct obj *x = &t->objs[i];
		if (x->dev != di || x == o)
			continue;
		if (x->held)
			held = x;
		else if (!src || below(t, 2))
			src = x;
	}
	if (o->held)
		held = o;
	bool use_held = held && (held == o || below(t, 4) == 0);
	bool copy = src && below(t, 2);
	int a = di->ad->slot, d = di->slot;
	ad_read(a);
	dev_read(d);
	/* Destroyed (the sweep will probe it), or no context to be had. Alive under
	 * the slot's read lock, di is the slot's device: the thread's state for the
	 * slot is di's or an older, dead, device's. */
	struct tdev *td = atomic_load(&di->dying) ? NULL : tdev_of(t, di);
	if (!td || !tdev_context(t, td, OP_RENDER)) {
		dev_unlock(d);
		ad_unlock(a);
		return;
	}
	struct cmd c = { .td = td };
	uint32_t off = 0, len = o->size, value = (uint32_t)rnd(t);
	if (copy) {
		uint32_t n = (src->size < o->size ? src->size : o->size) / 4;
		len = 4 * (1 + below(t, n));
		cmd_dw(&c, HW_PKT_HEADER(HW_PKT_COPY, 0, 6));
		cmd_addr(&c, src->h, 0);
		cmd_addr(&c, o->h, 0);
		cmd_dw(&c, len);
		cmd_dw(&c, 0);
	} else {
		off = 4 * below(t, o->size / 4);
		len = 4 * (1 + below(t, (o->size - off) / 4));
		cmd_dw(&c, HW_PKT_HEADER(HW_PKT_FILL, 0, 5));
		cmd_addr(&c, o->h, off);
		cmd_dw(&c, len);
		cmd_dw(&c, 0);
		cmd_dw(&c, value);
	}
	if (use_held)
		cmd_list(&c, held->h);
	dev_unlock(d);
	/* The buffers are written; the call itself may meet the device destroyed. */
	D3DKMT_RENDER r;
	memset(&r, 0, sizeof(r));
	r.hContext = td->ctx.hContext;
	r.CommandLength = c.ndw * 4;
	r.AllocationCount = c.nalloc;
	r.PatchLocationCount = c.npatch;
	bool dead = atomic_load(&di->dead);
	NTSTATUS st = D3DKMTRender(&r);
	/* A locked allocation may not move: the GPU may use it where it is (the CPU
	 * can reach it there), and Render refuses only when it would have to move. */
	bool ok;
	if (use_held)
		ok = judge(t, OP_RENDER, "D3DKMTRender with a locked allocation", st, &di->dying, dead,
			   OK(STATUS_SUCCESS, STATUS_GRAPHICS_CANT_RENDER_LOCKED_ALLOCATION,
			      STATUS_GRAPHICS_NO_VIDEO_MEMORY, STATUS_NO_MEMORY));
	else
		ok = judge(t, OP_RENDER, "D3DKMTRender", st, &di->dying, dead,
			   OK(STATUS_SUCCESS, STATUS_GRAPHICS_NO_VIDEO_MEMORY, STATUS_NO_MEMORY));
	ad_unlock(a);
	if (!ok)
		return;
	if (copy) {
		memmove(o->shadow, src->shadow, len);
	} else {
		for (uint32_t i = 0; i < len; i += 4)
			memcpy(o->shadow + off + i, &value, 4);
	}
}

static void op_resident(struct thr *t)
{
	struct obj *o = pick(t);
	if (!o || o->resident >= 3)
		return;
	D3DKMT_HANDLE list[3];
	struct obj *objs[3];
	uint32_t n = 0;
	list[n] = o->h;
	objs[n++] = o;
	for (int i = 0; i < t->n && n < 3; i++) {
		struct obj *x = &t->objs[i];
		if (x != o && x->dev == o->dev && x->resident < 3 && below(t, 3) == 0) {
			list[n] = x->h;
			objs[n++] = x;
		}
	}
	int a = o->dev->ad->slot;
	D3DDDI_MAKERESIDENT mr;
	memset(&mr, 0, sizeof(mr));
	mr.hPagingQueue = o->dev->h; /* the WDDM 1 form: paging done on return */
	mr.NumAllocations = n;
	mr.AllocationList = list;
	ad_read(a);
	bool dead = atomic_load(&o->dev->dead);
	NTSTATUS st = D3DKMTMakeResident(&mr);
	/* Over budget (counted across devices and threads) or no room: trim. */
	bool ok = judge(t, OP_RESIDENT, "D3DKMTMakeResident", st, &o->dev->dying, dead,
			OK(STATUS_SUCCESS, STATUS_PENDING, STATUS_NO_MEMORY));
	ad_unlock(a);
	if (st == STATUS_NO_MEMORY && !dead && !mr.NumBytesToTrim)
		fail(t, "D3DKMTMakeResident: STATUS_NO_MEMORY without NumBytesToTrim");
	if (ok || st == STATUS_PENDING)
		for (uint32_t i = 0; i < n; i++)
			objs[i]->resident++;
}

static void op_evict(struct thr *t)
{
	struct obj *o = pick(t);
	if (!o)
		return;
	/* Mostly what was made resident (residency piles up against the budget
	 * otherwise), now and then what was not. */
	if (!o->resident && below(t, 8)) {
		int k = 0;
		for (int i = 0; i < t->n; i++)
			if (t->objs[i].resident && below(t, (uint32_t)++k) == 0)
				o = &t->objs[i];
	}
	int a = o->dev->ad->slot;
	D3DKMT_EVICT ev;
	memset(&ev, 0, sizeof(ev));
	ev.hDevice = o->dev->h;
	ev.NumAllocations = 1;
	ev.AllocationList = &o->h;
	ad_read(a);
	bool dead = atomic_load(&o->dev->dead);
	NTSTATUS st = D3DKMTEvict(&ev);
	if (o->resident) {
		if (judge(t, OP_EVICT, "D3DKMTEvict", st, &o->dev->dying, dead, OK(STATUS_SUCCESS)))
			o->resident--;
	} else {
		/* Evicting what this device never made resident is a bad parameter. */
		judge(t, OP_EVICT, "D3DKMTEvict of an allocation not made resident", st, &o->dev->dying, dead,
		      OK(STATUS_INVALID_PARAMETER));
	}
	ad_unlock(a);
}

/* A wait's eventfd fired: it must have been written once, by that wait. */
static bool eventfd_once(struct thr *t, int fd, D3DKMT_HANDLE fence, uint64_t v)
{
	uint64_t c = 0;
	ssize_t r = read(fd, &c, sizeof(c));
	if (r != (ssize_t)sizeof(c) || c != 1) {
		fail(t, "the eventfd of the wait for fence 0x%x value %" PRIu64 " counts %" PRIu64, fence, v, c);
		return false;
	}
	return true;
}

static uint64_t fence_read(const volatile UINT64 *p)
{
	/* The kernel stores with release through its own mapping of the page. */
	return __atomic_load_n((const UINT64 *)p, __ATOMIC_ACQUIRE);
}

/*
 * A monitored fence of this thread on a device: signalled from the CPU, or from
 * the GPU behind the context's work and waited for by an eventfd with a poll
 * timeout (another thread's call may run the device and fire it meanwhile),
 * then by a blocking wait if the poll timed out, after which the eventfd must
 * have fired; now and then a wait for a value nobody will signal, which the
 * model answers STATUS_POSSIBLE_DEADLOCK.
 */
static void op_sync(struct thr *t)
{
	struct dev_inc *di = pick_device(t);
	if (!di)
		return;
	int a = di->ad->slot, d = di->slot;
	ad_read(a);
	dev_read(d);
	struct tdev *td = atomic_load(&di->dying) ? NULL : tdev_of(t, di);
	bool have = td && tdev_context(t, td, OP_SYNC) && tdev_fence(t, td, OP_SYNC);
	dev_unlock(d);
	if (!have) {
		ad_unlock(a);
		return;
	}
	uint64_t v = td->fence_value + 1;
	uint32_t mode = below(t, 10);
	bool reached = false; /* a wait on v was met, or the CPU wrote it */
	NTSTATUS st;
	bool dead = atomic_load(&di->dead);
	if (mode < 4 && td->gpu_pending) {
		/* The GPU writes what it was told when it gets there, over a CPU value
		 * signalled since (kmt/README.md): a client waits for its GPU signal
		 * before it signals from the CPU. */
		D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU w;
		memset(&w, 0, sizeof(w));
		w.hDevice = di->h;
		w.ObjectCount = 1;
		w.ObjectHandleArray = &td->fence;
		w.FenceValueArray = &td->fence_value;
		st = D3DKMTWaitForSynchronizationObjectFromCpu(&w);
		if (!judge(t, OP_SYNC, "D3DKMTWaitForSynchronizationObjectFromCpu before a CPU signal", st, &di->dying,
			   dead, OK(STATUS_SUCCESS))) {
			ad_unlock(a);
			return;
		}
		td->gpu_pending = false;
		dead = atomic_load(&di->dead);
	}
	if (mode < 4) {
		D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU sc;
		memset(&sc, 0, sizeof(sc));
		sc.hDevice = di->h;
		sc.ObjectCount = 1;
		sc.ObjectHandleArray = &td->fence;
		sc.FenceValueArray = &v;
		st = D3DKMTSignalSynchronizationObjectFromCpu(&sc);
		if (judge(t, OP_SYNC, "D3DKMTSignalSynchronizationObjectFromCpu", st, &di->dying, dead,
			  OK(STATUS_SUCCESS))) {
			td->fence_value = v;
			reached = true;
		}
	} else if (mode < 9) {
		D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU sg;
		memset(&sg, 0, sizeof(sg));
		sg.hContext = td->ctx.hContext;
		sg.ObjectCount = 1;
		sg.ObjectHandleArray = &td->fence;
		sg.MonitoredFenceValueArray = &v;
		st = D3DKMTSignalSynchronizationObjectFromGpu(&sg);
		/* The first GPU signal on an adapter makes its VA space, whose page
		 * tables need VRAM. */
		if (!judge(t, OP_SYNC, "D3DKMTSignalSynchronizationObjectFromGpu", st, &di->dying, dead,
			   OK(STATUS_SUCCESS, STATUS_GRAPHICS_NO_VIDEO_MEMORY, STATUS_NO_MEMORY))) {
			ad_unlock(a);
			return;
		}
		td->fence_value = v;
		int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd < 0) {
			fail(t, "eventfd: %s", strerror(errno));
			ad_unlock(a);
			return;
		}
		D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU w;
		memset(&w, 0, sizeof(w));
		w.hDevice = di->h;
		w.ObjectCount = 1;
		w.ObjectHandleArray = &td->fence;
		w.FenceValueArray = &v;
		w.hAsyncEvent = (HANDLE)(uintptr_t)fd;
		dead = atomic_load(&di->dead);
		st = D3DKMTWaitForSynchronizationObjectFromCpu(&w);
		if (judge(t, OP_SYNC, "D3DKMTWaitForSynchronizationObjectFromCpu (eventfd)", st, &di->dying, dead,
			  OK(STATUS_SUCCESS))) {
			struct pollfd pf = { .fd = fd, .events = POLLIN };
			int r = poll(&pf, 1, (int)below(t, 3));
			if (r == 1) {
				t->calls[OP_SYNC][C_FIRED]++;
				reached = eventfd_once(t, fd, td->fence, v);
			} else if (r == 0) {
				t->calls[OP_SYNC][C_TIMEOUT]++;
				/* A third of the time the thread gives up: the descriptor is
				 * closed with the wait pending, which Linux's dxgkrnl allows (it
				 * holds the eventfd itself, not the number). Else it blocks. */
				td->gpu_pending = true;
				if (below(t, 3)) {
					w.hAsyncEvent = NULL;
					dead = atomic_load(&di->dead);
					st = D3DKMTWaitForSynchronizationObjectFromCpu(&w);
					reached = judge(t, OP_SYNC, "D3DKMTWaitForSynchronizationObjectFromCpu", st,
							&di->dying, dead, OK(STATUS_SUCCESS));
					if (reached && poll(&pf, 1, 0) != 1)
						fail(t, "the wait for fence 0x%x value %" PRIu64
							" was met but its eventfd did not fire",
						     td->fence, v);
					else if (reached)
						eventfd_once(t, fd, td->fence, v);
				}
			} else {
				fail(t, "poll: %s", strerror(errno));
			}
		}
		close(fd);
	} else {
		uint64_t never = v + 1000;
		D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU w;
		memset(&w, 0, sizeof(w));
		w.hDevice = di->h;
		w.ObjectCount = 1;
		w.ObjectHandleArray = &td->fence;
		w.FenceValueArray = &never;
		st = D3DKMTWaitForSynchronizationObjectFromCpu(&w);
		/* It ran the device until nothing was left: every signal landed. */
		if (judge(t, OP_SYNC, "D3DKMTWaitForSynchronizationObjectFromCpu of a value never signalled", st,
			  &di->dying, dead, OK(STATUS_POSSIBLE_DEADLOCK)))
			td->gpu_pending = false;
	}
	/* Signals of one context land in order: this one reached, so did the rest. */
	if (reached)
		td->gpu_pending = false;
	/* The value through the caller's read-only view of the fence page (mapped
	 * while the device lives). */
	if (reached) {
		dev_read(d);
		if (!atomic_load(&di->dying) && fence_read(td->fence_cpu) != v)
			fail(t, "fence 0x%x reads %" PRIu64 " once %" PRIu64 " was reached", td->fence,
			     fence_read(td->fence_cpu), v);
		dev_unlock(d);
	}
	ad_unlock(a);
}

/* Queries whose answers are statuses only: of another thread's allocation, of
 * an adapter, of the adapter list, and the invariants, with teardowns about. */
static void op_query(struct thr *t)
{
	uint32_t mode = below(t, 6);
	int a = (int)below(t, ADAPTERS);
	ad_read(a);
	struct ad_inc *ai = atomic_load(&ads[a].cur);
	bool dead = atomic_load(&ai->dead);
	NTSTATUS st;
	switch (mode) {
	case 0: {
		D3DKMT_HANDLE h = atomic_load(&recent[below(t, RECENT)]);
		struct gpusim_alloc_info info;
		st = gpusim_query_allocation(h, &info);
		count(t, OP_QUERY, st);
		if (st != STATUS_SUCCESS && st != STATUS_INVALID_PARAMETER)
			fail(t, "gpusim_query_allocation of another thread's allocation: 0x%08x", (unsigned)st);
		break;
	}
	case 1: {
		/* One of this thread's allocations named with another device. */
		struct obj *o = pick(t);
		struct dev_inc *other = atomic_load(&devs[below(t, DEVICES)].cur);
		if (!o || !other || other == o->dev)
			break;
		void *p;
		st = lock2(other->h, o->h, &p);
		count(t, OP_QUERY, st);
		if (st != STATUS_INVALID_PARAMETER)
			fail(t, "D3DKMTLock2 of allocation 0x%x through another device: 0x%08x", o->h, (unsigned)st);
		if (st == STATUS_SUCCESS)
			unlock2(other->h, o->h);
		break;
	}
	case 2: {
		char err[256] = "";
		st = gpusim_check_invariants(ai->luid, err, sizeof(err));
		if (judge(t, OP_QUERY, "gpusim_check_invariants", st, &ai->dying, dead,
			  OK(STATUS_SUCCESS, STATUS_UNSUCCESSFUL)) == false &&
		    st == STATUS_UNSUCCESSFUL)
			fail(t, "invariants: %s", err);
		break;
	}
	case 3: {
		struct gpusim_stats s;
		st = gpusim_get_stats(ai->luid, &s);
		judge(t, OP_QUERY, "gpusim_get_stats", st, &ai->dying, dead, OK(STATUS_SUCCESS));
		break;
	}
	case 4: {
		D3DKMT_SEGMENTSIZEINFO seg;
		D3DKMT_QUERYADAPTERINFO q = { .hAdapter = ai->h, .Type = KMTQAITYPE_GETSEGMENTSIZE,
					      .pPrivateDriverData = &seg, .PrivateDriverDataSize = sizeof(seg) };
		st = D3DKMTQueryAdapterInfo(&q);
		if (judge(t, OP_QUERY, "D3DKMTQueryAdapterInfo", st, &ai->dying, dead, OK(STATUS_SUCCESS)) &&
		    seg.DedicatedVideoMemorySize != adapter_cfg.hw.vram)
			fail(t, "D3DKMTQueryAdapterInfo: %" PRIu64 " bytes of VRAM", (uint64_t)seg.DedicatedVideoMemorySize);
		break;
	}
	default: {
		/* Teardowns replace adapters one at a time (each holds every device
		 * slot), so there is always one; each slot may have a snapshot's copy. */
		D3DKMT_ADAPTERINFO info[8];
		D3DKMT_ENUMADAPTERS2 en = { .NumAdapters = 8, .pAdapters = info };
		st = D3DKMTEnumAdapters2(&en);
		count(t, OP_QUERY, st);
		if (st != STATUS_SUCCESS || en.NumAdapters < 1 || en.NumAdapters > ADAPTERS * 2) {
			fail(t, "D3DKMTEnumAdapters2: 0x%08x, %u adapters", (unsigned)st, (unsigned)en.NumAdapters);
			break;
		}
		for (ULONG i = 0; i < en.NumAdapters; i++) {
			D3DKMT_CLOSEADAPTER ca = { .hAdapter = info[i].hAdapter };
			st = D3DKMTCloseAdapter(&ca);
			count(t, OP_QUERY, st);
			/* The adapter may have gone since, and its handles with it. */
			if (st != STATUS_SUCCESS && st != STATUS_INVALID_PARAMETER)
				fail(t, "D3DKMTCloseAdapter: 0x%08x", (unsigned)st);
		}
		break;
	}
	}
	ad_unlock(a);
}

static const struct gpusim_handle_map *map_find(const struct gpusim_handle_map *map, size_t n, D3DKMT_HANDLE h)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (map[mid].old_handle < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && map[lo].old_handle == h ? &map[lo] : NULL;
}

/* Lock2 both copies of an allocation and compare their bytes. */
static void compare_copies(struct thr *t, D3DKMT_HANDLE dev0, D3DKMT_HANDLE h0, D3DKMT_HANDLE dev1, D3DKMT_HANDLE h1,
			   uint64_t size)
{
	void *p0, *p1;
	NTSTATUS st = lock2(dev0, h0, &p0);
	count(t, OP_SNAPSHOT, st);
	if (st) {
		if (st != STATUS_GRAPHICS_NO_VIDEO_MEMORY)
			fail(t, "snapshot: D3DKMTLock2 of original 0x%x: 0x%08x", h0, (unsigned)st);
		return;
	}
	st = lock2(dev1, h1, &p1);
	count(t, OP_SNAPSHOT, st);
	if (st == STATUS_SUCCESS) {
		long at = first_diff(p0, p1, size);
		if (at >= 0)
			fail(t, "snapshot: restored 0x%x differs from original 0x%x at byte %ld", h1, h0, at);
		count(t, OP_SNAPSHOT, unlock2(dev1, h1));
	} else if (st != STATUS_GRAPHICS_NO_VIDEO_MEMORY) {
		fail(t, "snapshot: D3DKMTLock2 of restored 0x%x: 0x%08x", h1, (unsigned)st);
	}
	count(t, OP_SNAPSHOT, unlock2(dev0, h0));
}

/*
 * A snapshot of an idle adapter (every other thread kept off it by its slot's
 * write lock), restored into a new adapter: every allocation's bytes there equal
 * the original's, this thread's equal its shadow, the invariants hold, and the
 * copy goes again.
 */
static void op_snapshot(struct thr *t)
{
	int a = (int)below(t, ADAPTERS);
	pthread_rwlock_wrlock(&ads[a].rw);
	struct ad_inc *ai = atomic_load(&ads[a].cur);
	NTSTATUS st = gpusim_idle(ai->luid);
	count(t, OP_SNAPSHOT, st);
	struct gpusim_snapshot *snap = NULL;
	if (st == STATUS_SUCCESS) {
		st = gpusim_snapshot_take(ai->luid, &snap);
		count(t, OP_SNAPSHOT, st);
	}
	if (st) {
		fail(t, "snapshot of an idle adapter: 0x%08x", (unsigned)st);
		pthread_rwlock_unlock(&ads[a].rw);
		return;
	}
	LUID copy;
	struct gpusim_handle_map *map = NULL;
	size_t nmap = 0;
	char err[256] = "";
	st = gpusim_snapshot_restore(snap, &copy, &map, &nmap, err, sizeof(err));
	count(t, OP_SNAPSHOT, st);
	if (st) {
		fail(t, "gpusim_snapshot_restore: 0x%08x: %s", (unsigned)st, err);
		gpusim_snapshot_free(snap);
		pthread_rwlock_unlock(&ads[a].rw);
		return;
	}
	for (uint64_t i = 0; i < snap->nallocs; i++) {
		const struct gpusim_snapshot_alloc *r = &snap->allocs[i];
		const struct gpusim_handle_map *mh = map_find(map, nmap, r->handle);
		const struct gpusim_handle_map *md = map_find(map, nmap, r->device);
		if (!mh || !md) {
			fail(t, "snapshot: allocation 0x%x or its device 0x%x not renamed", r->handle, r->device);
			continue;
		}
		compare_copies(t, r->device, r->handle, md->new_handle, mh->new_handle, r->size);
	}
	for (int i = 0; i < t->n; i++) {
		struct obj *o = &t->objs[i];
		/* Its device may have died since this operation's sweep. */
		if (o->dev->ad != ai || atomic_load(&o->dev->dying))
			continue;
		const struct gpusim_handle_map *mh = map_find(map, nmap, o->h);
		const struct gpusim_handle_map *md = map_find(map, nmap, o->dev->h);
		if (!mh || !md) {
			fail(t, "snapshot: this thread's allocation 0x%x is not in it", o->h);
			continue;
		}
		void *p;
		st = lock2(md->new_handle, mh->new_handle, &p);
		count(t, OP_SNAPSHOT, st);
		if (st == STATUS_SUCCESS) {
			check_bytes(t, "restored copy", o, p);
			count(t, OP_SNAPSHOT, unlock2(md->new_handle, mh->new_handle));
		} else if (st != STATUS_GRAPHICS_NO_VIDEO_MEMORY) {
			fail(t, "snapshot: D3DKMTLock2 of restored 0x%x: 0x%08x", mh->new_handle, (unsigned)st);
		}
	}
	struct gpusim_stats s0, s1;
	if (gpusim_get_stats(ai->luid, &s0) || gpusim_get_stats(copy, &s1) || s0.allocations != s1.allocations)
		fail(t, "snapshot: the copy has %" PRIu64 " allocations, the original %" PRIu64, s1.allocations,
		     s0.allocations);
	st = gpusim_check_invariants(copy, err, sizeof(err));
	count(t, OP_SNAPSHOT, st);
	if (st)
		fail(t, "snapshot: invariants of the copy: %s", err);
	st = gpusim_adapter_destroy(copy);
	count(t, OP_SNAPSHOT, st);
	if (st)
		fail(t, "snapshot: gpusim_adapter_destroy of the copy: 0x%08x", (unsigned)st);
	free(map);
	gpusim_snapshot_free(snap);
	pthread_rwlock_unlock(&ads[a].rw);
}

static void op_dev_destroy(struct thr *t)
{
	int d = (int)below(t, DEVICES);
	struct dev_inc *di = atomic_load(&devs[d].cur);
	if (!di) {
		t->cur_op = OP_DEV_CREATE;
		op_dev_create(t, d);
		return;
	}
	int a = di->ad->slot;
	bool recreate = below(t, 2);
	ad_read(a);
	dev_write(d);
	if (atomic_load(&devs[d].cur) == di) {
		atomic_store(&di->dying, true);
		NTSTATUS st = D3DKMTDestroyDevice(&(D3DKMT_DESTROYDEVICE){ .hDevice = di->h });
		count(t, OP_DEV_DESTROY, st);
		if (st)
			fail(t, "D3DKMTDestroyDevice of a live device: 0x%08x", (unsigned)st);
		atomic_store(&di->dead, true);
		atomic_store(&devs[d].cur, NULL);
		atomic_fetch_add(&deaths, 1);
		judge(t, OP_STALE, "D3DKMTDestroyDevice of a destroyed device",
		      D3DKMTDestroyDevice(&(D3DKMT_DESTROYDEVICE){ .hDevice = di->h }), &di->dying, true,
		      OK(STATUS_INVALID_PARAMETER));
		/* The same adapter (the one whose slot is held): lock order. */
		if (recreate)
			dev_new(d, di->ad, t);
	}
	dev_unlock(d);
	ad_unlock(a);
}

/* An adapter destroyed with every device on it, and a new one in its slot with
 * as many devices. */
static void op_ad_destroy(struct thr *t)
{
	int a = (int)below(t, ADAPTERS);
	ad_read(a);
	for (int d = 0; d < DEVICES; d++)
		dev_write(d);
	struct ad_inc *ai = atomic_load(&ads[a].cur);
	bool had[DEVICES] = { false };
	for (int d = 0; d < DEVICES; d++) {
		struct dev_inc *di = atomic_load(&devs[d].cur);
		if (di && di->ad == ai) {
			had[d] = true;
			atomic_store(&di->dying, true);
		}
	}
	atomic_store(&ai->dying, true);
	NTSTATUS st = gpusim_adapter_destroy(ai->luid);
	count(t, OP_AD_DESTROY, st);
	if (st)
		fail(t, "gpusim_adapter_destroy: 0x%08x", (unsigned)st);
	for (int d = 0; d < DEVICES; d++)
		if (had[d]) {
			struct dev_inc *di = atomic_load(&devs[d].cur);
			atomic_store(&di->dead, true);
			atomic_store(&devs[d].cur, NULL);
		}
	atomic_store(&ai->dead, true);
	atomic_fetch_add(&deaths, 1);
	/* Its LUID and its open are gone with it. */
	struct gpusim_stats s;
	judge(t, OP_STALE, "gpusim_get_stats of a destroyed adapter", gpusim_get_stats(ai->luid, &s), &ai->dying,
	      true, OK(STATUS_INVALID_PARAMETER));
	D3DKMT_CREATEDEVICE cd = { .hAdapter = ai->h };
	judge(t, OP_STALE, "D3DKMTCreateDevice on a destroyed adapter", D3DKMTCreateDevice(&cd), &ai->dying, true,
	      OK(STATUS_INVALID_PARAMETER));
	struct ad_inc *fresh = ad_new(a, t);
	if (fresh) {
		atomic_store(&ads[a].cur, fresh);
		for (int d = 0; d < DEVICES; d++)
			if (had[d])
				dev_new(d, fresh, t);
	}
	for (int d = DEVICES - 1; d >= 0; d--)
		dev_unlock(d);
	ad_unlock(a);
}

/* ---- the run ------------------------------------------------------------------------- */

static enum op choose(struct thr *t)
{
	if (t->held_left && --t->held_left == 0)
		return OP_UNLOCK;
	/* Per 100,000: the rare ones are whole-adapter work. */
	uint32_t r = below(t, 100000);
	if (r < 30)
		return OP_SNAPSHOT;
	if (r < 55)
		return OP_AD_DESTROY;
	if (r < 180)
		return OP_DEV_DESTROY;
	r = below(t, 100);
	if (r < 15)
		return t->n < MAX_LIVE / 2 || r < 12 ? OP_CREATE : OP_DESTROY;
	if (r < 25)
		return OP_DESTROY;
	if (r < 39)
		return OP_WRITE;
	if (r < 53)
		return OP_VERIFY;
	if (r < 59)
		return OP_LOCK;
	if (r < 74)
		return OP_RENDER;
	if (r < 80) {
		/* Residency is kept until evicted and counts against a budget shared
		 * by all: a thread holding much of it gives some back first. */
		int resident = 0;
		for (int i = 0; i < t->n; i++)
			resident += t->objs[i].resident > 0;
		return resident < 4 ? OP_RESIDENT : OP_EVICT;
	}
	if (r < 85)
		return OP_EVICT;
	if (r < 93)
		return OP_SYNC;
	return OP_QUERY;
}

static uint64_t ops_per_thread;

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	for (t->nops = 0; t->nops < ops_per_thread; t->nops++) {
		sweep(t);
		enum op op = choose(t);
		t->cur_op = op;
		switch (op) {
		case OP_CREATE: op_create(t); break;
		case OP_DESTROY: op_destroy(t); break;
		case OP_WRITE: op_cpu(t, true); break;
		case OP_VERIFY: op_cpu(t, false); break;
		case OP_LOCK: op_lock(t); break;
		case OP_UNLOCK: op_unlock_held(t); break;
		case OP_RENDER: op_render(t); break;
		case OP_RESIDENT: op_resident(t); break;
		case OP_EVICT: op_evict(t); break;
		case OP_SYNC: op_sync(t); break;
		case OP_QUERY: op_query(t); break;
		case OP_SNAPSHOT: op_snapshot(t); break;
		case OP_DEV_DESTROY: op_dev_destroy(t); break;
		case OP_AD_DESTROY: op_ad_destroy(t); break;
		default: break;
		}
		t->ops[t->cur_op]++;
	}
	/* Deaths after this thread's last sweep leave stale entries: probe them. */
	t->deaths_seen = atomic_load(&deaths) - 1;
	sweep(t);
	op_unlock_held(t);
	return NULL;
}

/* The allocation handles on an adapter (its snapshot's table: the statistics
 * count the page tables of a VA space too), each of which must be some
 * thread's: none that nobody owns. */
static uint64_t unowned_check(struct thr *m, struct ad_inc *ai)
{
	struct gpusim_snapshot *snap;
	NTSTATUS st = gpusim_snapshot_take(ai->luid, &snap);
	count(m, OP_FINAL, st);
	if (st) {
		fail(m, "final: gpusim_snapshot_take: 0x%08x", (unsigned)st);
		return 0;
	}
	uint64_t n = snap->nallocs;
	for (uint64_t i = 0; i < n; i++) {
		bool owned = false;
		for (int k = 0; k < THREADS && !owned; k++)
			for (int j = 0; j < thr[k].n && !owned; j++)
				owned = thr[k].objs[j].h == snap->allocs[i].handle;
		if (!owned)
			fail(m, "final: allocation 0x%x of device 0x%x belongs to no thread", snap->allocs[i].handle,
			     snap->allocs[i].device);
	}
	gpusim_snapshot_free(snap);
	return n;
}

/*
 * After the threads: every live allocation read back against its shadow, the
 * adapters' allocation counts against the shadows (an allocation nobody owns is
 * a leak), the invariants, then everything destroyed through the API and the
 * counts at zero.
 */
static void finish(struct thr *m)
{
	uint64_t live = 0;
	for (int i = 0; i < THREADS; i++) {
		struct thr *t = &thr[i];
		/* Teardowns by threads still running after this one's last sweep. */
		t->deaths_seen = atomic_load(&deaths) - 1;
		sweep(t);
		for (int k = 0; k < t->n; k++) {
			struct obj *o = &t->objs[k];
			void *p;
			NTSTATUS st = lock2(o->dev->h, o->h, &p);
			count(m, OP_FINAL, st);
			if (st) {
				fail(t, "final: D3DKMTLock2 of 0x%x: 0x%08x", o->h, (unsigned)st);
				continue;
			}
			check_bytes(t, "final verify", o, p);
			count(m, OP_FINAL, unlock2(o->dev->h, o->h));
			live++;
		}
	}
	uint64_t counted = 0;
	for (int a = 0; a < ADAPTERS; a++) {
		struct ad_inc *ai = atomic_load(&ads[a].cur);
		char err[256] = "";
		counted += unowned_check(m, ai);
		if (gpusim_check_invariants(ai->luid, err, sizeof(err)))
			fail(m, "final: invariants of adapter %d: %s", a, err);
	}
	if (counted != live)
		fail(m, "final: the adapters hold %" PRIu64 " allocations, the threads own %" PRIu64, counted, live);
	for (int i = 0; i < THREADS; i++) {
		struct thr *t = &thr[i];
		while (t->n) {
			struct obj *o = &t->objs[t->n - 1];
			NTSTATUS st = alloc_destroy(o->dev->h, o->h);
			count(m, OP_FINAL, st);
			if (st)
				fail(t, "final: D3DKMTDestroyAllocation2 of 0x%x: 0x%08x", o->h, (unsigned)st);
			drop(t, o);
		}
		for (int d = 0; d < DEVICES; d++) {
			struct tdev *td = &t->td[d];
			if (!td->inc || td->inc != atomic_load(&devs[d].cur))
				continue;
			if (td->fence) {
				D3DKMT_DESTROYSYNCHRONIZATIONOBJECT ds = { .hSyncObject = td->fence };
				count(m, OP_FINAL, D3DKMTDestroySynchronizationObject(&ds));
			}
			if (td->ctx.hContext) {
				D3DKMT_DESTROYCONTEXT dc = { .hContext = td->ctx.hContext };
				count(m, OP_FINAL, D3DKMTDestroyContext(&dc));
			}
		}
	}
	for (int a = 0; a < ADAPTERS; a++) {
		uint64_t left = unowned_check(m, atomic_load(&ads[a].cur));
		if (left)
			fail(m, "final: adapter %d keeps %" PRIu64 " allocations", a, left);
	}
	for (int d = 0; d < DEVICES; d++) {
		struct dev_inc *di = atomic_load(&devs[d].cur);
		if (di) {
			NTSTATUS st = D3DKMTDestroyDevice(&(D3DKMT_DESTROYDEVICE){ .hDevice = di->h });
			count(m, OP_FINAL, st);
			if (st)
				fail(m, "final: D3DKMTDestroyDevice: 0x%08x", (unsigned)st);
		}
	}
	for (int a = 0; a < ADAPTERS; a++) {
		struct ad_inc *ai = atomic_load(&ads[a].cur);
		D3DKMT_CLOSEADAPTER ca = { .hAdapter = ai->h };
		count(m, OP_FINAL, D3DKMTCloseAdapter(&ca));
		NTSTATUS st = gpusim_adapter_destroy(ai->luid);
		count(m, OP_FINAL, st);
		if (st)
			fail(m, "final: gpusim_adapter_destroy: 0x%08x", (unsigned)st);
	}
	gpusim_reset();
}

static void report(const struct thr *m, double seconds)
{
	uint64_t ops[NOPS] = { 0 }, calls[NOPS][NCOLS], total = 0;
	memset(calls, 0, sizeof(calls));
	for (int i = 0; i <= THREADS; i++) {
		const struct thr *t = i < THREADS ? &thr[i] : m;
		for (int o = 0; o < NOPS; o++) {
			ops[o] += t->ops[o];
			for (int c = 0; c < NCOLS; c++)
				calls[o][c] += t->calls[o][c];
		}
	}
	for (int o = 0; o < NOPS; o++)
		total += ops[o];
	printf("soak: %" PRIu64 " operations, %d threads, %d device slots, %d adapter slots, %.1f s\n", total, THREADS,
	       DEVICES, ADAPTERS, seconds);
	printf("%-16s %9s", "operation", "count");
	for (int c = 0; c < NCOLS; c++)
		printf(" %13s", col_names[c]);
	printf("\n");
	for (int o = 0; o < NOPS; o++) {
		printf("%-16s %9" PRIu64, op_names[o], ops[o]);
		for (int c = 0; c < NCOLS; c++)
			printf(" %13" PRIu64, calls[o][c]);
		printf("\n");
	}
}

static uint64_t parse_u64(const char *s, bool *ok)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	*ok = !errno && end != s && !*end;
	return v;
}

int main(int argc, char **argv)
{
	uint64_t total = DEFAULT_OPS, seed = 15;
	bool ok = true;
	if (argc > 2) {
		fprintf(stderr, "usage: %s [OPS]\n", argv[0]);
		return 2;
	}
	const char *ops_s = argc == 2 ? argv[1] : getenv("SOAK_OPS");
	if (ops_s && *ops_s)
		total = parse_u64(ops_s, &ok);
	const char *seed_s = getenv("SOAK_SEED");
	if (ok && seed_s && *seed_s)
		seed = parse_u64(seed_s, &ok);
	if (!ok || total < THREADS) {
		fprintf(stderr, "soak: OPS must be a number of at least %d\n", THREADS);
		return 2;
	}
	ops_per_thread = total / THREADS;

	char err[128] = "";
	gpusim_config_default(&adapter_cfg);
	if (gpusim_config_parse(&adapter_cfg, ADAPTER_CONFIG, err, sizeof(err))) {
		fprintf(stderr, "soak: %s\n", err);
		return 2;
	}
	static struct thr m; /* the main thread's counts and failures */
	m.id = -1;
	for (int a = 0; a < ADAPTERS; a++) {
		rwlock_init(&ads[a].rw);
		struct ad_inc *ai = ad_new(a, &m);
		if (!ai)
			return 1;
		atomic_store(&ads[a].cur, ai);
	}
	for (int d = 0; d < DEVICES; d++) {
		rwlock_init(&devs[d].rw);
		if (!dev_new(d, atomic_load(&ads[d % ADAPTERS].cur), &m))
			return 1;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < THREADS; i++) {
		thr[i].id = i;
		thr[i].rng = seed * 0x100000001b3ull + (uint64_t)i * 0x9e3779b97f4a7c15ull;
		if (pthread_create(&thr[i].tid, NULL, thread_main, &thr[i])) {
			fprintf(stderr, "soak: pthread_create failed\n");
			return 1;
		}
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(thr[i].tid, NULL);
	finish(&m);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	report(&m, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	while (all_ads) {
		struct ad_inc *n = all_ads->older;
		free(all_ads);
		all_ads = n;
	}
	while (all_devs) {
		struct dev_inc *n = all_devs->older;
		free(all_devs);
		all_devs = n;
	}
	int failures = m.failures;
	for (int i = 0; i < THREADS; i++)
		failures += thr[i].failures;
	if (failures) {
		printf("soak: FAILED: %d failures; first: %s\n", failures, m.failures ? m.first : "see above");
		return 1;
	}
	printf("soak: every byte verified, invariants held, nothing leaked\n");
	return 0;
}
