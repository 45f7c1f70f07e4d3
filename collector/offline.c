#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "collector.h"
#include "log.h"
#include "pcap.h"

int offline_read(struct collector *c, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	struct pcap_reader *r;
	struct pcap_frame fr;
	bool warned = false;
	int rc;

	if (!f) {
		LOG(LOG_ERROR, "cannot open %s: %s", path, strerror(errno));
		return EXIT_USAGE;
	}
	/* Large reads: stdio's default 4 KiB buffer made fread a tenth of --read's time. */
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	rc = pcap_open(f, &r);
	if (rc < 0) {
		LOG(LOG_ERROR, "%s: %s: l7collect reads pcap and pcapng files", path,
		    pcap_status_name(rc));
		return EXIT_USAGE;
	}
	LOG(LOG_INFO, "ready: reading %s", path);
	while (!collector_exiting && (rc = pcap_next(r, &fr)) == PCAP_FRAME) {
		wire_frame(c->ft, &c->wire, fr.data, fr.caplen, fr.wire_len, fr.link, fr.ts_ns,
		           NULL, NULL, false);
		if (c->wire.bad_link && !warned) {
			warned = true;
			LOG(LOG_WARN,
			    "%s: link type %u is not supported: its frames are counted and "
			    "skipped",
			    path, fr.link_raw);
		}
		c->last_packet_ns = fr.ts_ns;
		collector_tick(c, fr.ts_ns);
	}
	pcap_close(r);
	if (rc == PCAP_ERR_TRUNCATED) {
		/* A capture stopped mid-write: what came before it is still good. */
		LOG(LOG_WARN, "%s ends inside a record (a capture cut short?): read up to there",
		    path);
	} else if (rc < 0) {
		LOG(LOG_ERROR, "%s: %s after %llu frames", path, pcap_status_name(rc),
		    (unsigned long long)c->wire.frames);
		return EXIT_RUNTIME;
	}
	return 0;
}
