/*
 * hamlet.c - the `hamlet` command's main(): the command itself is the library hm_cli (main.c
 * and the command files), which the C tests of tests/unit/cli link too.
 */
#include "cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
