/* kvcache_table.h — the KV-cache accounting table of conversion.md §2.4,
 * shared by `gqla-eval kvcache` and `gqla-eval info` (cmd_kvcache.c). */
#ifndef GQ_KVCACHE_TABLE_H
#define GQ_KVCACHE_TABLE_H

#include <stdio.h>
#include "config.h"

/* Print, for every decoding path of the config (and the reference layouts
 * §2.4 names), the cache elements and bytes per token per layer and for the
 * whole model in bf16 and f32, and the ratio to the source GQA cache. */
void kvcache_print_table(FILE *f, const gq_config *cfg);
/* The per-rank cache of each path at tensor parallelism tp (engine/tp.h;
 * 1 <= tp <= G, checked by the caller): elements and bytes per token. */
void kvcache_print_tp_table(FILE *f, const gq_config *cfg, int tp);

#endif
