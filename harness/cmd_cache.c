/* cmd_cache.c — `gqla-eval cache list`: the models in the huggingface_hub
 * cache (hub/hub.h), with their sizes, snapshots, partial downloads and
 * refs.  Reads only; never touches the network. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hub.h"

static const char *cache_help =
    "Usage: gqla-eval cache list\n"
    "\n"
    "Lists the model repositories in the huggingface_hub cache ($HF_HUB_CACHE,\n"
    "else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else\n"
    "~/.cache/huggingface/hub): id, bytes in blobs/, snapshots, bytes of partial\n"
    "downloads (*.incomplete, resumed by the next fetch) and refs (revision=commit).\n"
    "A cached model runs offline as `--model ORG/NAME --offline`.\n";

int cmd_cache(int argc, char **argv)
{
    if (argc >= 1 && (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help"))) {
        fputs(cache_help, stdout);
        return GQ_EXIT_OK;
    }
    if (argc != 1 || strcmp(argv[0], "list") != 0)
        return cli_usage_error("cache", "expected `cache list`%s%s", argc ? ", got " : "", argc ? argv[0] : "");
    gq_error err = {0};
    if (gq_hub_cache_list(stdout, NULL, &err) != GQ_OK) return cli_fail(&err);
    return GQ_EXIT_OK;
}
