#include "event.h"

const char *l7_source_name(enum l7_source s)
{
	switch (s) {
	case L7_SOURCE_SOCKET:
		return "socket";
	case L7_SOURCE_SYSCALL:
		return "syscall";
	case L7_SOURCE_PCAP:
		return "pcap";
	}
	return "unknown";
}

const char *l7_dataset_name(enum l7_dataset d)
{
	switch (d) {
	case L7_DATASET_HTTP:
		return "http";
	case L7_DATASET_DNS:
		return "dns";
	case L7_DATASET_STATS:
		return "stats";
	}
	return "unknown";
}
