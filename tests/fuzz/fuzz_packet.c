/* pkt_decode on arbitrary frames. Input: byte 0 picks the link type, byte 1 how much longer than
 * the capture the frame was on the wire (exercising the GSO lengths); the rest is the frame, in a
 * buffer of its exact size so that ASan catches any read past caplen. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packet.h"

static const enum pkt_link links[] = {
        PKT_LINK_ETHERNET, PKT_LINK_RAW,       PKT_LINK_NULL,
        PKT_LINK_LOOP,     PKT_LINK_LINUX_SLL, PKT_LINK_LINUX_SLL2,
};

static void decode_checked(const uint8_t *frame, size_t caplen, size_t wire_len, enum pkt_link link)
{
	struct pkt p;

	if (pkt_decode(frame, caplen, wire_len, link, &p) != PKT_OK)
		return;
	if (p.payload_cap > p.payload_len || p.payload < frame ||
	    p.payload + p.payload_cap > frame + caplen)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum pkt_link link;
	size_t extra;

	if (size < 2)
		return 0;
	link = links[data[0] % (sizeof(links) / sizeof(links[0]))];
	extra = (size_t)data[1] * 257;
	data += 2;
	size -= 2;
	decode_checked(data, size, size, link);
	decode_checked(data, size, size + extra, link);
	return 0;
}
