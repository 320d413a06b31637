/*
 * The lab's replay (sim/lab/replay.h): a sequence's steps become the calls a
 * driver makes, on an adapter of its own, so the bytes counted are the real
 * manager's under the policy asked. Nothing here prints.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/d3dkmthk.h>
#include <gpusim/gpusim.h>

#include "sim/lab/replay.h"
#include "sim/scenario/scenario.h"

#define MiB (1024ull * 1024ull)

static uint64_t round_mib(uint64_t x)
{
	return (x + MiB - 1) / MiB * MiB;
}

void lab_adapter_spec(const struct lab_seq *s, uint64_t vram, const char *policy, char *buf, size_t len)
{
	/* GART allocations never compete for VRAM and page by remapping, which
	 * copies nothing: room for twice their peak keeps fragmentation from
	 * mattering, and 4 MiB more covers the driver's paging window. */
	uint64_t gart = round_mib(2 * s->peak_gart) + 4 * MiB;
	/* Every live allocation reserves its backing store at creation. */
	uint64_t sysmem = round_mib(s->peak_all) + 64 * MiB;
	snprintf(buf, len, "vram=%" PRIu64 ",visible=%" PRIu64 ",gart=%" PRIu64 ",sysmem=%" PRIu64 "%s%s", vram, vram,
		 gart, sysmem, policy ? ",policy=" : "", policy ? policy : "");
}

static int make_adapter(const struct lab_seq *s, uint64_t vram, const char *policy, LUID *luid, char *err,
			size_t errlen)
{
	char spec[256], why[256] = "";
	struct gpusim_config cfg;
	gpusim_config_default(&cfg);
	lab_adapter_spec(s, vram, policy, spec, sizeof(spec));
	if (gpusim_config_parse(&cfg, spec, why, sizeof(why))) {
		snprintf(err, errlen, "no adapter with %s: %s", spec, why);
		return -1;
	}
	NTSTATUS st = gpusim_adapter_create(&cfg, luid);
	if (st == STATUS_INVALID_PARAMETER) {
		/* The configuration parsed: what is left is the driver's own rings and
		 * GART table, which must fit in VRAM. */
		snprintf(err, errlen, "too small for an adapter (the driver's own structures live in VRAM)");
		return -1;
	}
	if (st != STATUS_SUCCESS) {
		snprintf(err, errlen, "no adapter with %s: %s", spec, scn_status_name(st));
		return -1;
	}
	return 0;
}

int lab_capacity(const struct lab_seq *s, uint64_t vram, uint64_t *usable, char *err, size_t errlen)
{
	LUID luid;
	struct gpusim_stats st;
	if (make_adapter(s, vram, NULL, &luid, err, errlen))
		return -1;
	NTSTATUS rc = gpusim_get_stats(luid, &st);
	gpusim_adapter_destroy(luid);
	if (rc != STATUS_SUCCESS) {
		snprintf(err, errlen, "no statistics: %s", scn_status_name(rc));
		return -1;
	}
	*usable = st.seg[GPUSIM_SEG_VISIBLE].size;
	return 0;
}

/* One replay's device, context and the allocations' handles. */
struct run {
	const struct lab_seq *s;
	LUID luid;
	D3DKMT_HANDLE adapter, device;
	D3DKMT_CREATECONTEXT ctx;
	D3DKMT_HANDLE *h;    /* per allocation of the sequence, 0 when not live */
};

static NTSTATUS create(struct run *r, uint32_t a)
{
	const struct lab_alloc *la = &r->s->allocs[a];
	uint32_t seg = la->vram ? GPUSIM_SEG_VISIBLE : GPUSIM_SEG_GART;
	struct gpusim_alloc_desc d = { .version = GPUSIM_ALLOC_DESC_VERSION, .size = la->size,
				       .preferred = { seg }, .allowed = GPUSIM_SEG_BIT(seg),
				       .priority = la->priority };
	D3DDDI_ALLOCATIONINFO2 info;
	memset(&info, 0, sizeof(info));
	info.pPrivateDriverData = &d;
	info.PrivateDriverDataSize = sizeof(d);
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = r->device;
	ca.NumAllocations = 1;
	ca.pAllocationInfo2 = &info;
	NTSTATUS st = D3DKMTCreateAllocation2(&ca);
	if (st == STATUS_SUCCESS)
		r->h[a] = info.hAllocation;
	return st;
}

static NTSTATUS destroy(struct run *r, uint32_t a)
{
	D3DKMT_DESTROYALLOCATION2 da;
	memset(&da, 0, sizeof(da));
	da.hDevice = r->device;
	da.phAllocationList = &r->h[a];
	da.AllocationCount = 1;
	NTSTATUS st = D3DKMTDestroyAllocation2(&da);
	r->h[a] = 0;
	return st;
}

static NTSTATUS set_priority(struct run *r, uint32_t a, uint32_t priority)
{
	UINT p = priority;
	D3DKMT_SETALLOCATIONPRIORITY sp;
	memset(&sp, 0, sizeof(sp));
	sp.hDevice = r->device;
	sp.phAllocationList = &r->h[a];
	sp.AllocationCount = 1;
	sp.pPriorities = &p;
	return D3DKMTSetAllocationPriority(&sp);
}

/* A use group is a Render that lists it and runs nothing: the manager makes the
 * list resident, and the GPU's use marks it written, as any Render does. */
static NTSTATUS use(struct run *r, const struct lab_step *st)
{
	for (size_t k = 0; k < st->n; k++) {
		r->ctx.pAllocationList[k].hAllocation = r->h[r->s->uses[st->first + k]];
		r->ctx.pAllocationList[k].Value = 0;
	}
	D3DKMT_RENDER rd;
	memset(&rd, 0, sizeof(rd));
	rd.hContext = r->ctx.hContext;
	rd.AllocationCount = (UINT)st->n;
	return D3DKMTRender(&rd);
}

static int setup(struct run *r, uint64_t vram, const char *policy, char *err, size_t errlen)
{
	if (make_adapter(r->s, vram, policy, &r->luid, err, errlen))
		return -1;
	D3DKMT_OPENADAPTERFROMLUID op = { .AdapterLuid = r->luid };
	NTSTATUS st = D3DKMTOpenAdapterFromLuid(&op);
	if (st == STATUS_SUCCESS) {
		r->adapter = op.hAdapter;
		D3DKMT_CREATEDEVICE cd = { .hAdapter = op.hAdapter };
		st = D3DKMTCreateDevice(&cd);
		r->device = cd.hDevice;
	}
	if (st == STATUS_SUCCESS) {
		r->ctx.hDevice = r->device;
		st = D3DKMTCreateContext(&r->ctx);
	}
	if (st != STATUS_SUCCESS) {
		snprintf(err, errlen, "setting up the adapter: %s", scn_status_name(st));
		return -1;
	}
	return 0;
}

static void teardown(struct run *r)
{
	if (r->device) {
		D3DKMT_DESTROYDEVICE dd = { .hDevice = r->device }; /* and everything on it */
		D3DKMTDestroyDevice(&dd);
	}
	if (r->adapter) {
		D3DKMT_CLOSEADAPTER cl = { .hAdapter = r->adapter };
		D3DKMTCloseAdapter(&cl);
	}
	gpusim_adapter_destroy(r->luid);
	free(r->h);
}

int lab_replay(const struct lab_seq *s, uint64_t vram, const char *policy, struct lab_replay *out, char *err,
	       size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct run r;
	memset(&r, 0, sizeof(r));
	r.s = s;
	r.h = calloc(s->nallocs ? s->nallocs : 1, sizeof(*r.h));
	if (!r.h) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (setup(&r, vram, policy, err, errlen)) {
		teardown(&r);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < s->nsteps && !rc; i++) {
		const struct lab_step *st = &s->steps[i];
		NTSTATUS status = STATUS_SUCCESS;
		const char *what = "";
		switch (st->kind) {
		case LAB_CREATE:
			status = create(&r, st->alloc);
			what = "creating allocation";
			break;
		case LAB_DESTROY:
			status = destroy(&r, st->alloc);
			what = "destroying allocation";
			break;
		case LAB_PRIORITY:
			status = set_priority(&r, st->alloc, st->priority);
			what = "setting the priority of allocation";
			break;
		case LAB_USE:
			if (st->n > r.ctx.AllocationListSize) {
				snprintf(err, errlen, "call %" PRIu32 " uses %zu allocations, more than a Render lists (%u)",
					 st->group + 1, st->n, (unsigned)r.ctx.AllocationListSize);
				rc = -1;
				continue;
			}
			status = use(&r, st);
			break;
		}
		if (status == STATUS_SUCCESS)
			continue;
		if (st->kind == LAB_USE)
			snprintf(err, errlen, "call %" PRIu32 " (a Render of %zu allocations): %s", st->group + 1, st->n,
				 scn_status_name(status));
		else
			snprintf(err, errlen, "%s 0x%08" PRIx32 ": %s", what, s->allocs[st->alloc].handle,
				 scn_status_name(status));
		rc = -1;
	}
	struct gpusim_stats stats;
	if (!rc && (gpusim_idle(r.luid) != STATUS_SUCCESS || gpusim_get_stats(r.luid, &stats) != STATUS_SUCCESS)) {
		snprintf(err, errlen, "the adapter did not finish its work");
		rc = -1;
	}
	if (!rc) {
		out->bytes_in = stats.bytes_in;
		out->bytes_out = stats.bytes_out;
		out->evictions = stats.evictions;
		out->page_ins = stats.page_ins;
		out->moves = stats.moves;
		out->demotions = stats.demotions;
		out->promotions = stats.promotions;
	}
	teardown(&r);
	return rc;
}
