/*
 * The KMT tests' user-mode driver: it speaks only the public API, as a real UMD
 * would, so the tests exercise exactly what client code exercises.
 */
#include <config.h>

#include <check.h>
#include <string.h>
#include <zlib.h>

#include <gpusim/hw.h>

#include "tests/kmt/kmt_helpers.h"

void kt_setup(struct kt_gpu *g, const char *config)
{
	struct gpusim_config cfg;
	char err[128] = "";
	memset(g, 0, sizeof(*g));
	gpusim_reset();
	gpusim_config_default(&cfg);
	ck_assert_msg(gpusim_config_parse(&cfg, config, err, sizeof(err)) == 0, "config: %s", err);
	ck_assert_int_eq(gpusim_adapter_create(&cfg, &g->luid), STATUS_SUCCESS);
	D3DKMT_OPENADAPTERFROMLUID open = { .AdapterLuid = g->luid };
	ck_assert_int_eq(D3DKMTOpenAdapterFromLuid(&open), STATUS_SUCCESS);
	g->adapter = open.hAdapter;
	g->device = kt_new_device(g);
	g->ctx.hDevice = g->device;
	ck_assert_int_eq(D3DKMTCreateContext(&g->ctx), STATUS_SUCCESS);
	g->context = g->ctx.hContext;
	struct gpusim_alloc_desc d = kt_desc(4096, GPUSIM_ALLOC_CPU_VISIBLE | GPUSIM_ALLOC_PINNED,
					     GPUSIM_SEG_VISIBLE, 0);
	ck_assert_int_eq(kt_alloc_on(g->device, &d, &g->result), STATUS_SUCCESS);
}

D3DKMT_HANDLE kt_new_device(struct kt_gpu *g)
{
	D3DKMT_CREATEDEVICE cd = { .hAdapter = g->adapter };
	ck_assert_int_eq(D3DKMTCreateDevice(&cd), STATUS_SUCCESS);
	return cd.hDevice;
}

void kt_teardown(struct kt_gpu *g)
{
	char err[256] = "";
	NTSTATUS st = gpusim_check_invariants(g->luid, err, sizeof(err));
	gpusim_reset();
	ck_assert_msg(st == STATUS_SUCCESS, "invariants: %s", err);
}

struct gpusim_alloc_desc kt_desc(uint64_t size, uint32_t flags, uint32_t pref0, uint32_t allowed)
{
	struct gpusim_alloc_desc d;
	memset(&d, 0, sizeof(d));
	d.version = GPUSIM_ALLOC_DESC_VERSION;
	d.flags = flags;
	d.size = size;
	d.preferred[0] = pref0;
	d.allowed = allowed;
	return d;
}

NTSTATUS kt_alloc_on(D3DKMT_HANDLE device, const struct gpusim_alloc_desc *d, D3DKMT_HANDLE *out)
{
	D3DDDI_ALLOCATIONINFO2 info;
	memset(&info, 0, sizeof(info));
	info.pPrivateDriverData = (void *)d;
	info.PrivateDriverDataSize = sizeof(*d);
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = device;
	ca.NumAllocations = 1;
	ca.pAllocationInfo2 = &info;
	NTSTATUS st = D3DKMTCreateAllocation2(&ca);
	*out = st == STATUS_SUCCESS ? info.hAllocation : 0;
	return st;
}

NTSTATUS kt_alloc(struct kt_gpu *g, uint64_t size, uint32_t pref0, uint32_t allowed, D3DKMT_HANDLE *out)
{
	struct gpusim_alloc_desc d = kt_desc(size, 0, pref0, allowed);
	return kt_alloc_on(g->device, &d, out);
}

NTSTATUS kt_free(D3DKMT_HANDLE device, D3DKMT_HANDLE h)
{
	D3DKMT_DESTROYALLOCATION2 da;
	memset(&da, 0, sizeof(da));
	da.hDevice = device;
	da.phAllocationList = &h;
	da.AllocationCount = 1;
	return D3DKMTDestroyAllocation2(&da);
}

uint32_t kt_segment(D3DKMT_HANDLE h)
{
	struct gpusim_alloc_info info;
	ck_assert_int_eq(gpusim_query_allocation(h, &info), STATUS_SUCCESS);
	return info.segment;
}

static uint32_t mix(uint32_t seed, uint64_t i)
{
	uint64_t x = (i >> 2) * 0x9e3779b97f4a7c15ull + seed * 0xbf58476d1ce4e5b9ull;
	x ^= x >> 31;
	x *= 0x94d049bb133111ebull;
	return (uint32_t)(x >> 29);
}

void kt_pattern(void *p, uint64_t size, uint32_t seed)
{
	uint8_t *b = p;
	for (uint64_t i = 0; i < size; i += 4) {
		uint32_t v = mix(seed, i);
		memcpy(b + i, &v, size - i < 4 ? size - i : 4);
	}
}

bool kt_pattern_ok(const void *p, uint64_t size, uint32_t seed)
{
	const uint8_t *b = p;
	for (uint64_t i = 0; i < size; i += 4) {
		uint32_t v = mix(seed, i);
		if (memcmp(b + i, &v, size - i < 4 ? size - i : 4))
			return false;
	}
	return true;
}

uint32_t kt_pattern_crc(uint64_t size, uint32_t seed)
{
	uLong crc = crc32(0L, Z_NULL, 0);
	uint8_t buf[4096];
	for (uint64_t off = 0; off < size; off += sizeof(buf)) {
		uint64_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);
		for (uint64_t i = 0; i < n; i += 4) {
			uint32_t v = mix(seed, off + i);
			memcpy(buf + i, &v, 4);
		}
		crc = crc32(crc, buf, (uInt)n);
	}
	return (uint32_t)crc;
}

NTSTATUS kt_write(D3DKMT_HANDLE device, D3DKMT_HANDLE h, uint64_t size, uint32_t seed)
{
	D3DKMT_LOCK2 lk = { .hDevice = device, .hAllocation = h };
	NTSTATUS st = D3DKMTLock2(&lk);
	if (st)
		return st;
	kt_pattern(lk.pData, size, seed);
	D3DKMT_UNLOCK2 ul = { .hDevice = device, .hAllocation = h };
	return D3DKMTUnlock2(&ul);
}

bool kt_verify(D3DKMT_HANDLE device, D3DKMT_HANDLE h, uint64_t size, uint32_t seed)
{
	D3DKMT_LOCK2 lk = { .hDevice = device, .hAllocation = h };
	if (D3DKMTLock2(&lk))
		return false;
	bool ok = kt_pattern_ok(lk.pData, size, seed);
	D3DKMT_UNLOCK2 ul = { .hDevice = device, .hAllocation = h };
	return D3DKMTUnlock2(&ul) == STATUS_SUCCESS && ok;
}

void kt_cmd_begin(struct kt_gpu *g)
{
	g->ndw = g->nalloc = g->npatch = 0;
}

static void dw(struct kt_gpu *g, uint32_t v)
{
	ck_assert_uint_lt(g->ndw * 4, g->ctx.CommandBufferSize);
	((uint32_t *)g->ctx.pCommandBuffer)[g->ndw++] = v;
}

static uint32_t list_index(struct kt_gpu *g, D3DKMT_HANDLE h)
{
	for (uint32_t i = 0; i < g->nalloc; i++)
		if (g->ctx.pAllocationList[i].hAllocation == h)
			return i;
	ck_assert_uint_lt(g->nalloc, g->ctx.AllocationListSize);
	g->ctx.pAllocationList[g->nalloc].hAllocation = h;
	g->ctx.pAllocationList[g->nalloc].Value = 0;
	return g->nalloc++;
}

/* Two dwords the kernel patches with h's GPU address plus offset. */
static void addr(struct kt_gpu *g, D3DKMT_HANDLE h, uint32_t offset)
{
	D3DDDI_PATCHLOCATIONLIST *pl = &g->ctx.pPatchLocationList[g->npatch++];
	memset(pl, 0, sizeof(*pl));
	pl->AllocationIndex = list_index(g, h);
	pl->AllocationOffset = offset;
	pl->PatchOffset = g->ndw * 4;
	dw(g, 0xdeadbeef);
	dw(g, 0xdeadbeef);
}

void kt_cmd_fill(struct kt_gpu *g, D3DKMT_HANDLE dst, uint64_t bytes, uint32_t value)
{
	dw(g, HW_PKT_HEADER(HW_PKT_FILL, 0, 5));
	addr(g, dst, 0);
	dw(g, (uint32_t)bytes);
	dw(g, (uint32_t)(bytes >> 32));
	dw(g, value);
}

void kt_cmd_copy(struct kt_gpu *g, D3DKMT_HANDLE src, D3DKMT_HANDLE dst, uint64_t bytes)
{
	dw(g, HW_PKT_HEADER(HW_PKT_COPY, 0, 6));
	addr(g, src, 0);
	addr(g, dst, 0);
	dw(g, (uint32_t)bytes);
	dw(g, (uint32_t)(bytes >> 32));
}

void kt_cmd_checksum(struct kt_gpu *g, D3DKMT_HANDLE src, uint64_t bytes, D3DKMT_HANDLE dst, uint32_t dst_off)
{
	dw(g, HW_PKT_HEADER(HW_PKT_CHECKSUM, 0, 6));
	addr(g, src, 0);
	dw(g, (uint32_t)bytes);
	dw(g, (uint32_t)(bytes >> 32));
	addr(g, dst, dst_off);
}

void kt_cmd_use(struct kt_gpu *g, D3DKMT_HANDLE h)
{
	list_index(g, h);
}

void kt_cmd_write_raw(struct kt_gpu *g, uint64_t gpu_address, uint32_t value)
{
	dw(g, HW_PKT_HEADER(HW_PKT_WRITE_DATA, 0, 3));
	dw(g, (uint32_t)gpu_address);
	dw(g, (uint32_t)(gpu_address >> 32));
	dw(g, value);
}

NTSTATUS kt_cmd_submit(struct kt_gpu *g)
{
	D3DKMT_RENDER r;
	memset(&r, 0, sizeof(r));
	r.hContext = g->context;
	r.CommandLength = g->ndw * 4;
	r.AllocationCount = g->nalloc;
	r.PatchLocationCount = g->npatch;
	NTSTATUS st = D3DKMTRender(&r);
	kt_cmd_begin(g);
	return st;
}

uint32_t kt_gpu_crc(struct kt_gpu *g, D3DKMT_HANDLE h, uint64_t size)
{
	kt_cmd_begin(g);
	kt_cmd_checksum(g, h, size, g->result, 0);
	ck_assert_int_eq(kt_cmd_submit(g), STATUS_SUCCESS);
	ck_assert_int_eq(gpusim_idle(g->luid), STATUS_SUCCESS);
	D3DKMT_LOCK2 lk = { .hDevice = g->device, .hAllocation = g->result };
	ck_assert_int_eq(D3DKMTLock2(&lk), STATUS_SUCCESS);
	uint32_t crc;
	memcpy(&crc, lk.pData, 4);
	D3DKMT_UNLOCK2 ul = { .hDevice = g->device, .hAllocation = g->result };
	ck_assert_int_eq(D3DKMTUnlock2(&ul), STATUS_SUCCESS);
	return crc;
}

struct gpusim_stats kt_stats(const struct kt_gpu *g)
{
	struct gpusim_stats s;
	ck_assert_int_eq(gpusim_get_stats(g->luid, &s), STATUS_SUCCESS);
	return s;
}

struct gpusim_alloc_info kt_query(D3DKMT_HANDLE h)
{
	struct gpusim_alloc_info info;
	ck_assert_int_eq(gpusim_query_allocation(h, &info), STATUS_SUCCESS);
	return info;
}

void kt_assert_invariants(const struct kt_gpu *g)
{
	char err[256] = "";
	NTSTATUS st = gpusim_check_invariants(g->luid, err, sizeof(err));
	ck_assert_msg(st == STATUS_SUCCESS, "invariants: %s", err);
}

void kt_idle(const struct kt_gpu *g)
{
	ck_assert_int_eq(gpusim_idle(g->luid), STATUS_SUCCESS);
}

/* ---- GPU virtual addresses --------------------------------------------------------- */

D3DKMT_HANDLE kt_vctx(D3DKMT_HANDLE device)
{
	D3DKMT_CREATECONTEXTVIRTUAL cv;
	memset(&cv, 0, sizeof(cv));
	cv.hDevice = device;
	ck_assert_int_eq(D3DKMTCreateContextVirtual(&cv), STATUS_SUCCESS);
	return cv.hContext;
}

NTSTATUS kt_va_reserve(D3DKMT_HANDLE device, uint64_t size, uint64_t *va)
{
	D3DDDI_RESERVEGPUVIRTUALADDRESS r;
	memset(&r, 0, sizeof(r));
	r.hPagingQueue = device;
	r.Size = size;
	NTSTATUS st = D3DKMTReserveGpuVirtualAddress(&r);
	*va = r.VirtualAddress;
	return st;
}

NTSTATUS kt_va_map(D3DKMT_HANDLE device, D3DKMT_HANDLE h, uint64_t first, uint64_t pages, bool ro,
		   uint64_t *va)
{
	D3DDDI_MAPGPUVIRTUALADDRESS m;
	memset(&m, 0, sizeof(m));
	m.hPagingQueue = device;
	m.hAllocation = h;
	m.BaseAddress = *va;
	m.OffsetInPages = first;
	m.SizeInPages = pages;
	m.Protection.Write = !ro;
	NTSTATUS st = D3DKMTMapGpuVirtualAddress(&m);
	if (st == STATUS_PENDING)
		*va = m.VirtualAddress;
	return st;
}

static NTSTATUS va_update(D3DKMT_HANDLE device, D3DKMT_HANDLE ctx, D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION *op)
{
	D3DKMT_UPDATEGPUVIRTUALADDRESS u;
	memset(&u, 0, sizeof(u));
	u.hDevice = device;
	u.hContext = ctx;
	u.NumOperations = 1;
	u.Operations = op;
	return D3DKMTUpdateGpuVirtualAddress(&u);
}

NTSTATUS kt_va_unmap(D3DKMT_HANDLE device, D3DKMT_HANDLE ctx, uint64_t va, uint64_t size)
{
	D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION op;
	memset(&op, 0, sizeof(op));
	op.OperationType = D3DDDI_UPDATEGPUVIRTUALADDRESS_UNMAP;
	op.Unmap.BaseAddress = va;
	op.Unmap.SizeInBytes = size;
	return va_update(device, ctx, &op);
}

NTSTATUS kt_va_copy(D3DKMT_HANDLE device, D3DKMT_HANDLE ctx, uint64_t src, uint64_t dst, uint64_t size)
{
	D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION op;
	memset(&op, 0, sizeof(op));
	op.OperationType = D3DDDI_UPDATEGPUVIRTUALADDRESS_COPY;
	op.Copy.SourceAddress = src;
	op.Copy.DestAddress = dst;
	op.Copy.SizeInBytes = size;
	return va_update(device, ctx, &op);
}

NTSTATUS kt_va_free(D3DKMT_HANDLE adapter, uint64_t va, uint64_t size)
{
	D3DKMT_FREEGPUVIRTUALADDRESS f = { .hAdapter = adapter, .BaseAddress = va, .Size = size };
	return D3DKMTFreeGpuVirtualAddress(&f);
}

NTSTATUS kt_va_submit(D3DKMT_HANDLE device, D3DKMT_HANDLE ctx, D3DKMT_HANDLE cmd, uint64_t cmd_va,
		      const uint32_t *dw, uint32_t ndw)
{
	D3DKMT_LOCK2 lk = { .hDevice = device, .hAllocation = cmd };
	NTSTATUS st = D3DKMTLock2(&lk);
	if (st)
		return st;
	memcpy(lk.pData, dw, ndw * 4u);
	D3DKMT_UNLOCK2 ul = { .hDevice = device, .hAllocation = cmd };
	if ((st = D3DKMTUnlock2(&ul)))
		return st;
	D3DKMT_SUBMITCOMMAND s;
	memset(&s, 0, sizeof(s));
	s.Commands = cmd_va;
	s.CommandLength = ndw * 4u;
	s.BroadcastContextCount = 1;
	s.BroadcastContext[0] = ctx;
	return D3DKMTSubmitCommand(&s);
}

uint32_t kt_va_crc(struct kt_gpu *g, D3DKMT_HANDLE ctx, D3DKMT_HANDLE cmd, uint64_t cmd_va, uint64_t va,
		   uint64_t bytes, D3DKMT_HANDLE result, uint64_t result_va)
{
	uint32_t p[] = { HW_PKT_HEADER(HW_PKT_CHECKSUM, 0, 6), (uint32_t)va, (uint32_t)(va >> 32),
			 (uint32_t)bytes, (uint32_t)(bytes >> 32), (uint32_t)result_va,
			 (uint32_t)(result_va >> 32) };
	ck_assert_int_eq(kt_va_submit(g->device, ctx, cmd, cmd_va, p, 7), STATUS_SUCCESS);
	ck_assert_int_eq(gpusim_idle(g->luid), STATUS_SUCCESS);
	D3DKMT_LOCK2 lk = { .hDevice = g->device, .hAllocation = result };
	ck_assert_int_eq(D3DKMTLock2(&lk), STATUS_SUCCESS);
	uint32_t crc;
	memcpy(&crc, lk.pData, 4);
	D3DKMT_UNLOCK2 ul = { .hDevice = g->device, .hAllocation = result };
	ck_assert_int_eq(D3DKMTUnlock2(&ul), STATUS_SUCCESS);
	return crc;
}

uint32_t kt_cpu_crc(D3DKMT_HANDLE device, D3DKMT_HANDLE h, uint64_t offset, uint64_t bytes)
{
	D3DKMT_LOCK2 lk = { .hDevice = device, .hAllocation = h };
	ck_assert_int_eq(D3DKMTLock2(&lk), STATUS_SUCCESS);
	uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)lk.pData + offset, (uInt)bytes);
	D3DKMT_UNLOCK2 ul = { .hDevice = device, .hAllocation = h };
	ck_assert_int_eq(D3DKMTUnlock2(&ul), STATUS_SUCCESS);
	return crc;
}
