/*
 * Runs the SDL viewer's Check suite (built only with SDL2). The dummy video driver
 * is chosen before SDL starts, so the tests need no display.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include <SDL.h>

Suite *sim_render_suite(void);

int main(void)
{
	setenv("SDL_VIDEODRIVER", "dummy", 1);
	if (SDL_Init(SDL_INIT_VIDEO) != 0) {
		fprintf(stderr, "check_view: SDL_Init: %s\n", SDL_GetError());
		return EXIT_FAILURE;
	}
	SRunner *sr = srunner_create(sim_render_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	SDL_Quit();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
