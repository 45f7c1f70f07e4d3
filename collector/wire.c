#include "wire.h"

void wire_frame(struct flow_table *ft, struct wire_stats *st, const uint8_t *frame, size_t cap,
                size_t wire_len, enum pkt_link link, uint64_t ts, const char *ifname,
                const struct conn_owner *owner, bool to_owner)
{
	struct pkt p;

	st->frames++;
	switch (pkt_decode(frame, cap, wire_len, link, &p)) {
	case PKT_OK:
		flow_table_packet(ft, &p, ts, ifname, owner, to_owner);
		break;
	case PKT_ERR_LINK:
		st->bad_link++;
		break;
	case PKT_ERR_NOT_IP:
		st->not_ip++;
		break;
	case PKT_ERR_FRAGMENT:
		st->fragments++;
		break;
	case PKT_ERR_PROTO:
		st->other_proto++;
		break;
	default:
		st->malformed++;
		break;
	}
}

void stats_add_wire(struct stats_builder *b, const struct wire_stats *st)
{
	stats_add(b, "decode", "frames", st->frames);
	stats_add(b, "decode", "bad_link", st->bad_link);
	stats_add(b, "decode", "not_ip", st->not_ip);
	stats_add(b, "decode", "malformed", st->malformed);
	stats_add(b, "decode", "fragments", st->fragments);
	stats_add(b, "decode", "other_proto", st->other_proto);
}
