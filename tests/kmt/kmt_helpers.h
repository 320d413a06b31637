/*
 * A small user-mode-driver toolkit for the KMT tests: an adapter, a device and a
 * context in one call, allocations from a gpusim_alloc_desc, CPU patterns through
 * Lock/Unlock, and GPU work (FILL, COPY, CHECKSUM) submitted with D3DKMTRender.
 */
#ifndef TESTS_KMT_HELPERS_H
#define TESTS_KMT_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include <gpusim/d3dkmthk.h>
#include <gpusim/gpusim.h>

struct kt_gpu {
	LUID luid;
	D3DKMT_HANDLE adapter, device, context;
	D3DKMT_CREATECONTEXT ctx;
	D3DKMT_HANDLE result;   /* 4 KiB CPU-visible allocation for GPU answers */
	/* the command being built */
	uint32_t ndw, nalloc, npatch;
};

#define KT_SEG(s) GPUSIM_SEG_BIT(GPUSIM_SEG_##s)

/* A call and the status it must return, named in the failure message. */
#define KT_ST_EQ(call, expect)                                                                 \
	do {                                                                                   \
		NTSTATUS st_ = (call);                                                         \
		ck_assert_msg(st_ == (NTSTATUS)(expect), "%s: status 0x%08x, expected 0x%08x", \
			      #call, (unsigned)st_, (unsigned)(expect));                       \
	} while (0)

struct gpusim_stats kt_stats(const struct kt_gpu *g);
struct gpusim_alloc_info kt_query(D3DKMT_HANDLE h);
void kt_assert_invariants(const struct kt_gpu *g);
void kt_idle(const struct kt_gpu *g);

/* gpusim_reset(), then an adapter from `config` ("vram=64M,..."), opened, with a
 * device and a context. Fails the test on any error. */
void kt_setup(struct kt_gpu *g, const char *config);
void kt_teardown(struct kt_gpu *g);
D3DKMT_HANDLE kt_new_device(struct kt_gpu *g);

struct gpusim_alloc_desc kt_desc(uint64_t size, uint32_t flags, uint32_t pref0, uint32_t allowed);
NTSTATUS kt_alloc_on(D3DKMT_HANDLE device, const struct gpusim_alloc_desc *d, D3DKMT_HANDLE *out);
NTSTATUS kt_alloc(struct kt_gpu *g, uint64_t size, uint32_t pref0, uint32_t allowed, D3DKMT_HANDLE *out);
NTSTATUS kt_free(D3DKMT_HANDLE device, D3DKMT_HANDLE h);
uint32_t kt_segment(D3DKMT_HANDLE h);  /* GPUSIM_SEG_* of an allocation */

/* A pattern derived from seed and byte position, so moves and shifts show. */
void kt_pattern(void *p, uint64_t size, uint32_t seed);
bool kt_pattern_ok(const void *p, uint64_t size, uint32_t seed);
uint32_t kt_pattern_crc(uint64_t size, uint32_t seed);
NTSTATUS kt_write(D3DKMT_HANDLE device, D3DKMT_HANDLE h, uint64_t size, uint32_t seed);
bool kt_verify(D3DKMT_HANDLE device, D3DKMT_HANDLE h, uint64_t size, uint32_t seed);

/* GPU work on g's context: build, then submit (D3DKMTRender). */
void kt_cmd_begin(struct kt_gpu *g);
void kt_cmd_fill(struct kt_gpu *g, D3DKMT_HANDLE dst, uint64_t bytes, uint32_t value);
void kt_cmd_copy(struct kt_gpu *g, D3DKMT_HANDLE src, D3DKMT_HANDLE dst, uint64_t bytes);
void kt_cmd_checksum(struct kt_gpu *g, D3DKMT_HANDLE src, uint64_t bytes, D3DKMT_HANDLE dst, uint32_t dst_off);
/* Reference an allocation without touching it (it is made resident all the same). */
void kt_cmd_use(struct kt_gpu *g, D3DKMT_HANDLE h);
/* Store to a raw GPU address no allocation-list entry covers. */
void kt_cmd_write_raw(struct kt_gpu *g, uint64_t gpu_address, uint32_t value);
NTSTATUS kt_cmd_submit(struct kt_gpu *g);
/* CRC-32 of an allocation computed by the GPU (CHECKSUM packet), after idling. */
uint32_t kt_gpu_crc(struct kt_gpu *g, D3DKMT_HANDLE h, uint64_t size);

/* ---- GPU virtual addresses (WDDM 2) ------------------------------------------------ */

/* A context in the process's VA space of the device's adapter. */
D3DKMT_HANDLE kt_vctx(D3DKMT_HANDLE device);
NTSTATUS kt_va_reserve(D3DKMT_HANDLE device, uint64_t size, uint64_t *va);
/* pages of h from page first at *va (0: anywhere, *va set), read-only or not. */
NTSTATUS kt_va_map(D3DKMT_HANDLE device, D3DKMT_HANDLE h, uint64_t first, uint64_t pages, bool ro,
		   uint64_t *va);
NTSTATUS kt_va_unmap(D3DKMT_HANDLE device, D3DKMT_HANDLE ctx, uint64_t va, uint64_t size);
NTSTATUS kt_va_copy(D3DKMT_HANDLE device, D3DKMT_HANDLE ctx, uint64_t src, uint64_t dst, uint64_t size);
NTSTATUS kt_va_free(D3DKMT_HANDLE adapter, uint64_t va, uint64_t size);
/* A command of ndw dwords written at the start of cmd (a CPU-visible allocation
 * mapped at cmd_va), submitted on ctx with D3DKMTSubmitCommand. */
NTSTATUS kt_va_submit(D3DKMT_HANDLE device, D3DKMT_HANDLE ctx, D3DKMT_HANDLE cmd, uint64_t cmd_va,
		      const uint32_t *dw, uint32_t ndw);
/* CRC-32 the GPU computes of [va, va + bytes) by VA, stored at result_va (which
 * maps the first bytes of allocation result), after idling. */
uint32_t kt_va_crc(struct kt_gpu *g, D3DKMT_HANDLE ctx, D3DKMT_HANDLE cmd, uint64_t cmd_va, uint64_t va,
		   uint64_t bytes, D3DKMT_HANDLE result, uint64_t result_va);
/* CRC-32 of bytes of an allocation from offset, read by the CPU (Lock2). */
uint32_t kt_cpu_crc(D3DKMT_HANDLE device, D3DKMT_HANDLE h, uint64_t offset, uint64_t bytes);

#endif
