#include <config.h>
#include "tests/kmt/kmt_suites.h"
Suite *kmt_submit_suite(void)
{
	return suite_create("kmt_submit");
}
