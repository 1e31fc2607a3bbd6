/* main.c — gqla-eval entry point: dispatches to the subcommands. */
#include <stdio.h>
int main(void) { puts("gqla-eval " GQLA_VERSION); return 0; }
