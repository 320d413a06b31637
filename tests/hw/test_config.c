/*
 * Configuration of the simulated device: defaults, size parsing, hw_config_set keys,
 * validation with its messages, and the identity/size registers of a created device.
 */
#include <errno.h>
#include <string.h>

#include "tests/hw/helpers.h"
#include "tests/hw/hw_suites.h"

#define MiB (1024ull * 1024)
#define GiB (1024ull * MiB)

START_TEST(test_defaults)
{
	struct hw_config cfg;

	memset(&cfg, 0xa5, sizeof cfg);
	hw_config_default(&cfg);
	ck_assert_uint_eq(cfg.vram, 256 * MiB);
	ck_assert_uint_eq(cfg.visible, 64 * MiB);
	ck_assert_uint_eq(cfg.gart, 512 * MiB);
	ck_assert_uint_eq(cfg.sysmem, 2 * GiB);
	ck_assert_uint_eq(cfg.gart_base, HW_GART_BASE_DEFAULT);
	ck_assert_uint_eq(cfg.gart_base, 1024 * GiB);
	ck_assert_uint_eq(cfg.vram_bandwidth, 512000000000ull);
	ck_assert_uint_eq(cfg.pcie_bandwidth, 32000000000ull);
	ck_assert_uint_eq(cfg.packet_overhead_ns, 100);
	ck_assert_uint_eq(cfg.tlb_entries, 64);
	ck_assert_int_eq(hw_config_validate(&cfg, NULL, 0), 0);
}
END_TEST

START_TEST(test_parse_size_valid)
{
	static const struct {
		const char *text;
		uint64_t value;
	} cases[] = {
		{ "4K", 4096 },
		{ "64M", 64 * MiB },
		{ "1G", GiB },
		{ "2T", 2048 * GiB },
		{ "0x1000", 4096 },
		{ "123", 123 },
		{ "0", 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint64_t out = 1;
		ck_assert_msg(hw_parse_size(cases[i].text, &out) == 0, "parse \"%s\"",
			      cases[i].text);
		ck_assert_msg(out == cases[i].value, "\"%s\" gave %llu", cases[i].text,
			      (unsigned long long)out);
	}
}
END_TEST

START_TEST(test_parse_size_invalid)
{
	static const char *const bad[] = {
		"", "garbage", "4Q", "K", "0x", "12 apples", "99999999999T",
		"0x1ffffffffffffffffff", "18446744073709551616",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t out = 0;
		ck_assert_msg(hw_parse_size(bad[i], &out) < 0, "\"%s\" was accepted as %llu",
			      bad[i], (unsigned long long)out);
	}
}
END_TEST

START_TEST(test_config_set_keys)
{
	struct hw_config cfg;

	hw_config_default(&cfg);
	ck_assert_int_eq(hw_config_set(&cfg, "vram", "1G"), 0);
	ck_assert_int_eq(hw_config_set(&cfg, "visible", "128M"), 0);
	ck_assert_int_eq(hw_config_set(&cfg, "gart", "0x2000000"), 0);
	ck_assert_int_eq(hw_config_set(&cfg, "sysmem", "3G"), 0);
	ck_assert_int_eq(hw_config_set(&cfg, "gart_base", "2T"), 0);
	ck_assert_int_eq(hw_config_set(&cfg, "vram_bw", "1000000000"), 0);
	ck_assert_int_eq(hw_config_set(&cfg, "pcie_bw", "2000000000"), 0);
	ck_assert_int_eq(hw_config_set(&cfg, "packet_ns", "250"), 0);
	ck_assert_int_eq(hw_config_set(&cfg, "tlb", "16"), 0);
	ck_assert_uint_eq(cfg.vram, GiB);
	ck_assert_uint_eq(cfg.visible, 128 * MiB);
	ck_assert_uint_eq(cfg.gart, 32 * MiB);
	ck_assert_uint_eq(cfg.sysmem, 3 * GiB);
	ck_assert_uint_eq(cfg.gart_base, 2048 * GiB);
	ck_assert_uint_eq(cfg.vram_bandwidth, 1000000000ull);
	ck_assert_uint_eq(cfg.pcie_bandwidth, 2000000000ull);
	ck_assert_uint_eq(cfg.packet_overhead_ns, 250);
	ck_assert_uint_eq(cfg.tlb_entries, 16);
	ck_assert_int_eq(hw_config_validate(&cfg, NULL, 0), 0);
}
END_TEST

START_TEST(test_config_set_rejects)
{
	struct hw_config cfg, before;

	hw_config_default(&cfg);
	before = cfg;
	ck_assert_int_eq(hw_config_set(&cfg, "vrma", "1G"), -EINVAL);
	ck_assert_int_eq(hw_config_set(&cfg, "", "1G"), -EINVAL);
	ck_assert_int_eq(hw_config_set(&cfg, "VRAM_SIZE", "1G"), -EINVAL);
	ck_assert_int_lt(hw_config_set(&cfg, "vram", "lots"), 0);
	ck_assert_int_lt(hw_config_set(&cfg, "tlb", ""), 0);
	ck_assert_int_eq(memcmp(&cfg, &before, sizeof cfg), 0);
}
END_TEST

/* Each mutation of the default configuration must be refused with a message. */
static void expect_invalid(const struct hw_config *cfg, const char *what)
{
	char err[256];
	struct hw_device *dev = NULL;

	memset(err, 0, sizeof err);
	ck_assert_msg(hw_config_validate(cfg, err, sizeof err) == -EINVAL, "%s accepted", what);
	ck_assert_msg(err[0] != '\0', "%s: no message", what);
	ck_assert_msg(memchr(err, '\0', sizeof err) != NULL, "%s: message not terminated", what);
	ck_assert_int_eq(hw_config_validate(cfg, NULL, 0), -EINVAL);
	ck_assert_msg(hw_device_create(cfg, &dev) == -EINVAL, "%s: device created", what);
}

START_TEST(test_validate_sizes)
{
	struct hw_config def, cfg;

	hw_config_default(&def);
	cfg = def, cfg.vram += 100;
	expect_invalid(&cfg, "vram not a page multiple");
	cfg = def, cfg.visible = 4096 * 3 + 1;
	expect_invalid(&cfg, "visible not a page multiple");
	cfg = def, cfg.sysmem -= 2048;
	expect_invalid(&cfg, "sysmem not a page multiple");
	cfg = def, cfg.gart += 1;
	expect_invalid(&cfg, "gart not a page multiple");
	cfg = def, cfg.vram = 0;
	expect_invalid(&cfg, "zero vram");
	cfg = def, cfg.visible = 0;
	expect_invalid(&cfg, "zero visible");
}
END_TEST

START_TEST(test_validate_relations)
{
	struct hw_config def, cfg;

	hw_config_default(&def);
	cfg = def, cfg.visible = cfg.vram + 4096;
	expect_invalid(&cfg, "visible > vram");
	cfg = def, cfg.gart_base = cfg.vram - 4096;
	expect_invalid(&cfg, "vram > gart_base");
	cfg = def, cfg.tlb_entries = 48;
	expect_invalid(&cfg, "tlb 48");
	cfg = def, cfg.tlb_entries = 0;
	expect_invalid(&cfg, "tlb 0");
	cfg = def, cfg.vram_bandwidth = 0;
	expect_invalid(&cfg, "zero vram bandwidth");
	cfg = def, cfg.pcie_bandwidth = 0;
	expect_invalid(&cfg, "zero pcie bandwidth");
}
END_TEST

START_TEST(test_validate_edges_accepted)
{
	struct hw_config cfg;
	char err[128] = "";

	hw_config_default(&cfg);
	cfg.visible = cfg.vram;           /* resizable BAR */
	cfg.gart_base = cfg.vram;         /* aperture right after VRAM */
	cfg.tlb_entries = 1;
	ck_assert_int_eq(hw_config_validate(&cfg, err, sizeof err), 0);
	cfg.gart = 0;                     /* no aperture at all */
	cfg.visible = 4096;
	ck_assert_int_eq(hw_config_validate(&cfg, err, sizeof err), 0);
}
END_TEST

START_TEST(test_device_registers)
{
	struct hw_device *dev = ht_device("vram=32M,visible=8M,gart=4M,sysmem=12M,gart_base=0x30000000000");
	const struct hw_config *cfg = hw_device_config(dev);

	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(cfg->vram, 32 * MiB);
	ck_assert_uint_eq(cfg->gart_base, 0x30000000000ull);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_ID), HW_DEVICE_ID);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_REV), HW_DEVICE_REV);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_VRAM_SIZE_LO), 32 * MiB);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_VISIBLE_SIZE_LO), 8 * MiB);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_GART_SIZE_LO), 4 * MiB);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_GART_BASE_LO), 0x30000000000ull);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_SYSMEM_SIZE_LO), 12 * MiB);
	ck_assert_uint_eq(hw_sysmem_pages_total(dev), 12 * MiB / 4096);
	ck_assert_uint_eq(hw_sysmem_pages_used(dev), 0);
	/* Read-only registers ignore writes. */
	hw_mmio_write(dev, HW_REG_ID, 0);
	hw_mmio_write(dev, HW_REG_VRAM_SIZE_LO, 0);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_ID), HW_DEVICE_ID);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_VRAM_SIZE_LO), 32 * MiB);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_device_create_invalid)
{
	struct hw_config cfg;
	struct hw_device *dev = NULL;

	hw_config_default(&cfg);
	cfg.visible = 2 * cfg.vram;
	ck_assert_int_eq(hw_device_create(&cfg, &dev), -EINVAL);
	hw_config_default(&cfg);
	ck_assert_int_eq(ht_config_parse(&cfg, "vram=8M,visible=8M,gart=0,sysmem=4M"), 0);
	ck_assert_int_eq(hw_device_create(&cfg, &dev), 0);
	ck_assert_ptr_nonnull(dev);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_GART_SIZE_LO), 0);
	hw_device_destroy(dev);
}
END_TEST

Suite *hw_config_suite(void)
{
	Suite *s = suite_create("hw_config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_parse_size_valid);
	tcase_add_test(tc, test_parse_size_invalid);
	tcase_add_test(tc, test_config_set_keys);
	tcase_add_test(tc, test_config_set_rejects);
	tcase_add_test(tc, test_validate_sizes);
	tcase_add_test(tc, test_validate_relations);
	tcase_add_test(tc, test_validate_edges_accepted);
	tcase_add_test(tc, test_device_registers);
	tcase_add_test(tc, test_device_create_invalid);
	suite_add_tcase(s, tc);
	return s;
}
