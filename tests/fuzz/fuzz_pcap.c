/* The capture-file reader on arbitrary files, and every frame it returns through pkt_decode. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packet.h"
#include "pcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcap_reader *r;
	struct pcap_frame frame;
	struct pkt p;
	FILE *f;

	/* fmemopen rejects an empty buffer on older C libraries. */
	if (size == 0)
		return 0;
	f = fmemopen((void *)data, size, "rb");
	if (!f)
		abort();
	if (pcap_open(f, &r) != 0)
		return 0;
	while (pcap_next(r, &frame) == PCAP_FRAME) {
		/* An exact-size copy: reading it checks the reader's data pointer and length, and
		 * lets ASan catch pkt_decode reading past caplen, which the reader's larger buffer
		 * would hide. */
		uint8_t *copy = malloc(frame.caplen ? frame.caplen : 1);

		if (!copy || frame.caplen > frame.wire_len)
			abort();
		memcpy(copy, frame.data, frame.caplen);
		if (pkt_decode(copy, frame.caplen, frame.wire_len, frame.link, &p) == PKT_OK &&
		    p.payload_cap > p.payload_len)
			abort();
		free(copy);
	}
	pcap_close(r);
	return 0;
}
