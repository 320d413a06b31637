/*
 * Device configuration: defaults, the size syntax shared by every layer
 * ("4K", "64M", "1G", "0x1000") and validation. A device is only ever created
 * from a configuration that hw_config_validate accepted.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <gpusim/hw.h>

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)

void hw_config_default(struct hw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->vram = 256 * MiB;
	cfg->visible = 64 * MiB;
	cfg->gart = 512 * MiB;
	cfg->sysmem = 2 * GiB;
	cfg->gart_base = HW_GART_BASE_DEFAULT;
	/* A mid-range discrete card on PCIe 4.0 x16. */
	cfg->vram_bandwidth = 512000000000ull;
	cfg->pcie_bandwidth = 32000000000ull;
	cfg->packet_overhead_ns = 100;
	cfg->tlb_entries = 64;
	cfg->va_bits = HW_VA_BITS_DEFAULT;
	/* 2 MiB of 4 KiB pages per engine: the order of a real GPU's L2 TLB. */
	cfg->vm_tlb_entries = 512;
}

int hw_parse_size(const char *text, uint64_t *out)
{
	if (!text || !*text)
		return -EINVAL;
	uint64_t v = 0;
	const char *p = text;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		if (!*p)
			return -EINVAL;
		for (; *p; p++) {
			unsigned d;
			if (*p >= '0' && *p <= '9')
				d = (unsigned)(*p - '0');
			else if (*p >= 'a' && *p <= 'f')
				d = (unsigned)(*p - 'a' + 10);
			else if (*p >= 'A' && *p <= 'F')
				d = (unsigned)(*p - 'A' + 10);
			else
				return -EINVAL;
			if (v >> 60)
				return -ERANGE;
			v = v << 4 | d;
		}
		*out = v;
		return 0;
	}
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	unsigned shift = 0;
	switch (*p) {
	case '\0': break;
	case 'k': case 'K': shift = 10; p++; break;
	case 'm': case 'M': shift = 20; p++; break;
	case 'g': case 'G': shift = 30; p++; break;
	case 't': case 'T': shift = 40; p++; break;
	default: return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

int hw_config_set(struct hw_config *cfg, const char *key, const char *value)
{
	uint64_t v;
	int rc = hw_parse_size(value, &v);
	if (rc)
		return -EINVAL;
	if (!strcmp(key, "vram"))
		cfg->vram = v;
	else if (!strcmp(key, "visible"))
		cfg->visible = v;
	else if (!strcmp(key, "gart"))
		cfg->gart = v;
	else if (!strcmp(key, "sysmem"))
		cfg->sysmem = v;
	else if (!strcmp(key, "gart_base"))
		cfg->gart_base = v;
	else if (!strcmp(key, "vram_bw"))
		cfg->vram_bandwidth = v;
	else if (!strcmp(key, "pcie_bw"))
		cfg->pcie_bandwidth = v;
	else if (!strcmp(key, "packet_ns") && v <= UINT32_MAX)
		cfg->packet_overhead_ns = (uint32_t)v;
	else if (!strcmp(key, "tlb") && v <= UINT32_MAX)
		cfg->tlb_entries = (uint32_t)v;
	else if (!strcmp(key, "va_bits") && v <= UINT32_MAX)
		cfg->va_bits = (uint32_t)v;
	else if (!strcmp(key, "vm_tlb") && v <= UINT32_MAX)
		cfg->vm_tlb_entries = (uint32_t)v;
	else
		return -EINVAL;
	return 0;
}

static int fail(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return -EINVAL;
}

int hw_config_validate(const struct hw_config *cfg, char *err, size_t errlen)
{
	const uint64_t pm = HW_PAGE_SIZE - 1;
	if (!cfg)
		return fail(err, errlen, "no configuration");
	if (!cfg->vram || (cfg->vram & pm))
		return fail(err, errlen, "vram must be a non-zero multiple of 4K");
	if (!cfg->visible || (cfg->visible & pm))
		return fail(err, errlen, "visible must be a non-zero multiple of 4K");
	if (cfg->visible > cfg->vram)
		return fail(err, errlen, "visible must not exceed vram");
	if (cfg->gart & pm)
		return fail(err, errlen, "gart must be a multiple of 4K");
	if (!cfg->sysmem || (cfg->sysmem & pm))
		return fail(err, errlen, "sysmem must be a non-zero multiple of 4K");
	if (cfg->gart_base & pm)
		return fail(err, errlen, "gart_base must be a multiple of 4K");
	if (cfg->vram > cfg->gart_base)
		return fail(err, errlen, "vram must end at or below gart_base");
	if (cfg->gart > UINT64_MAX - cfg->gart_base)
		return fail(err, errlen, "gart aperture overflows the GPU address space");
	if (!cfg->vram_bandwidth || !cfg->pcie_bandwidth)
		return fail(err, errlen, "bandwidths must be non-zero");
	if (!cfg->tlb_entries || (cfg->tlb_entries & (cfg->tlb_entries - 1)))
		return fail(err, errlen, "tlb entries must be a power of two");
	if (cfg->tlb_entries > (1u << 20))
		return fail(err, errlen, "tlb entries must be at most 1M");
	if (cfg->va_bits < HW_VA_BITS_MIN || cfg->va_bits > HW_VA_BITS_MAX)
		return fail(err, errlen, "va_bits must be between 40 and 48");
	/* The TLB holds lines of 8 entries: at least one. */
	if (cfg->vm_tlb_entries < 8 || (cfg->vm_tlb_entries & (cfg->vm_tlb_entries - 1)))
		return fail(err, errlen, "vm_tlb entries must be a power of two, at least 8");
	if (cfg->vm_tlb_entries > (1u << 20))
		return fail(err, errlen, "vm_tlb entries must be at most 1M");
	if (cfg->sysmem >> HW_PAGE_SHIFT > (1ull << 40))
		return fail(err, errlen, "sysmem too large");
	return 0;
}
