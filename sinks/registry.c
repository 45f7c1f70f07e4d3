#include <stdio.h>
#include <string.h>

#include "sink.h"

static const struct sink_ops *const sinks[] = {
        &sink_stdout, &sink_file, &sink_http, &sink_elasticsearch, &sink_loki,
};

const struct sink_ops *sink_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(sinks) / sizeof(sinks[0]); i++)
		if (strcmp(sinks[i]->name, name) == 0)
			return sinks[i];
	return NULL;
}

void sink_print_usage(void)
{
	for (size_t i = 0; i < sizeof(sinks) / sizeof(sinks[0]); i++)
		fputs(sinks[i]->usage, stdout);
}
