#include "packet.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#define ETH_HLEN           14
#define VLAN_HLEN          4
#define ETH_MAX_VLAN_TAGS  2
#define ETHERTYPE_IPV4     0x0800
#define ETHERTYPE_IPV6     0x86dd
#define ETHERTYPE_8021Q    0x8100
#define ETHERTYPE_8021AD   0x88a8
#define SLL_HLEN           16
#define SLL_PROTO_OFF      14
#define SLL2_HLEN          20
#define LOOP_HLEN          4
#define IPV4_HLEN          20
#define IPV6_HLEN          40
#define IPV6_EXT_MIN_HLEN  8
#define IPV6_FRAG_OFF_MASK 0xfff8
#define IPV6_FRAG_MORE     0x0001
#define TCP_HLEN           20
#define UDP_HLEN           8

/* RFC 8200 allows each extension header once (destination options twice), so a legitimate chain
 * is shorter than this; the bound keeps garbage from walking the whole frame. */
#define IPV6_MAX_EXT_HDRS 8

/* Address family values as the capturing OS wrote them into NULL/LOOP headers: they are not the
 * local AF_* constants. Every BSD picked its own AF_INET6. */
#define CAP_AF_INET          2
#define CAP_AF_INET6_LINUX   10
#define CAP_AF_INET6_BSD     24 /* NetBSD, OpenBSD */
#define CAP_AF_INET6_FREEBSD 28
#define CAP_AF_INET6_DARWIN  30

/* Walks one frame. len counts the bytes from off to the end of the current layer as the wire
 * (or the IP header) says; the capture may hold fewer, so every header is checked against both. */
struct decoder {
	const uint8_t *frame;
	size_t caplen;
	size_t off;
	size_t len;
	uint8_t proto;
};

/* Frames come from pcap files and ring buffers with no alignment guarantee: hence memcpy. */
static uint16_t load_be16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return ntohs(v);
}

static uint32_t load_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return ntohl(v);
}

/* True if a header of n bytes at the current offset was captured and fits in its layer. */
static bool header_fits(const struct decoder *d, size_t n)
{
	return d->caplen - d->off >= n && d->len >= n;
}

static void consume(struct decoder *d, size_t n)
{
	d->off += n;
	d->len -= n;
}

/* The IP version an ethertype announces, 0 for anything else. */
static int ethertype_version(uint16_t type)
{
	switch (type) {
	case ETHERTYPE_IPV4:
		return 4;
	case ETHERTYPE_IPV6:
		return 6;
	default:
		return 0;
	}
}

/* The IP version a NULL/LOOP address family announces, 0 for anything else. */
static int af_version(uint32_t af)
{
	switch (af) {
	case CAP_AF_INET:
		return 4;
	case CAP_AF_INET6_LINUX:
	case CAP_AF_INET6_BSD:
	case CAP_AF_INET6_FREEBSD:
	case CAP_AF_INET6_DARWIN:
		return 6;
	default:
		return 0;
	}
}

static int ethernet_version(const uint8_t *frame, size_t caplen, size_t *off)
{
	uint16_t type;

	if (caplen < ETH_HLEN)
		return PKT_ERR_LINK;
	type = load_be16(frame + ETH_HLEN - 2);
	*off = ETH_HLEN;
	for (int i = 0; i < ETH_MAX_VLAN_TAGS; i++) {
		if (type != ETHERTYPE_8021Q && type != ETHERTYPE_8021AD)
			break;
		if (caplen - *off < VLAN_HLEN)
			return PKT_ERR_LINK;
		type = load_be16(frame + *off + 2);
		*off += VLAN_HLEN;
	}
	return ethertype_version(type);
}

/* Finds where the IP header starts; returns the IP version the link layer announces (4 or 6) or a
 * negative enum pkt_status. */
static int decode_link(const uint8_t *frame, size_t caplen, enum pkt_link link, size_t *off)
{
	int version;
	uint32_t af;

	switch (link) {
	case PKT_LINK_ETHERNET:
		version = ethernet_version(frame, caplen, off);
		if (version < 0)
			return version;
		break;
	case PKT_LINK_RAW:
		/* No link header: an empty frame is an IP header cut short. */
		if (caplen < 1)
			return PKT_ERR_MALFORMED;
		*off = 0;
		version = frame[0] >> 4;
		break;
	case PKT_LINK_NULL:
	case PKT_LINK_LOOP:
		if (caplen < LOOP_HLEN)
			return PKT_ERR_LINK;
		memcpy(&af, frame, sizeof(af));
		*off = LOOP_HLEN;
		version = af_version(link == PKT_LINK_LOOP ? ntohl(af) : af);
		break;
	case PKT_LINK_LINUX_SLL:
		if (caplen < SLL_HLEN)
			return PKT_ERR_LINK;
		*off = SLL_HLEN;
		version = ethertype_version(load_be16(frame + SLL_PROTO_OFF));
		break;
	case PKT_LINK_LINUX_SLL2:
		if (caplen < SLL2_HLEN)
			return PKT_ERR_LINK;
		*off = SLL2_HLEN;
		version = ethertype_version(load_be16(frame));
		break;
	default:
		return PKT_ERR_LINK;
	}
	return version == 4 || version == 6 ? version : PKT_ERR_NOT_IP;
}

static int decode_ipv4(struct decoder *d, struct pkt *out)
{
	const uint8_t *ip = d->frame + d->off;
	size_t hlen, total;

	if (!header_fits(d, IPV4_HLEN) || ip[0] >> 4 != 4)
		return PKT_ERR_MALFORMED;
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	if (hlen < IPV4_HLEN || !header_fits(d, hlen))
		return PKT_ERR_MALFORMED;
	total = load_be16(ip + 2);
	/* GSO and BIG TCP packets are captured before segmentation and may exceed 64 KiB: the
	 * kernel leaves the total length 0 and only the frame length tells the size. */
	if (total == 0)
		total = d->len;
	if (total < hlen)
		return PKT_ERR_MALFORMED;
	if (load_be16(ip + 6) & (IP_MF | IP_OFFMASK))
		return PKT_ERR_FRAGMENT;

	out->t.family = AF_INET;
	memcpy(out->t.saddr, ip + 12, 4);
	memcpy(out->t.daddr, ip + 16, 4);
	d->proto = ip[9];
	/* The IP length, not the frame, says where the packet ends: Ethernet pads short frames. */
	d->len = total;
	consume(d, hlen);
	return PKT_OK;
}

static bool is_ipv6_ext(uint8_t proto)
{
	return proto == IPPROTO_HOPOPTS || proto == IPPROTO_ROUTING || proto == IPPROTO_DSTOPTS ||
	       proto == IPPROTO_AH || proto == IPPROTO_FRAGMENT;
}

static int skip_ipv6_ext(struct decoder *d)
{
	for (int n = 0; is_ipv6_ext(d->proto); n++) {
		const uint8_t *h = d->frame + d->off;
		size_t hlen = IPV6_EXT_MIN_HLEN;

		if (n == IPV6_MAX_EXT_HDRS || !header_fits(d, IPV6_EXT_MIN_HLEN))
			return PKT_ERR_MALFORMED;
		if (d->proto == IPPROTO_AH)
			/* RFC 4302 counts AH in 4-byte words minus 2, unlike the others. */
			hlen = ((size_t)h[1] + 2) * 4;
		else if (d->proto != IPPROTO_FRAGMENT)
			hlen = ((size_t)h[1] + 1) * 8;
		else if (load_be16(h + 2) & (IPV6_FRAG_OFF_MASK | IPV6_FRAG_MORE))
			return PKT_ERR_FRAGMENT;
		if (!header_fits(d, hlen))
			return PKT_ERR_MALFORMED;
		d->proto = h[0];
		consume(d, hlen);
	}
	return PKT_OK;
}

static int decode_ipv6(struct decoder *d, struct pkt *out)
{
	const uint8_t *ip = d->frame + d->off;
	size_t plen;

	if (!header_fits(d, IPV6_HLEN) || ip[0] >> 4 != 6)
		return PKT_ERR_MALFORMED;
	plen = load_be16(ip + 4);
	/* 0 for GSO/BIG TCP and for jumbograms alike: the frame length is the only size left. */
	if (plen != 0)
		d->len = IPV6_HLEN + plen;

	out->t.family = AF_INET6;
	memcpy(out->t.saddr, ip + 8, 16);
	memcpy(out->t.daddr, ip + 24, 16);
	d->proto = ip[6];
	consume(d, IPV6_HLEN);
	return skip_ipv6_ext(d);
}

static int decode_tcp(struct decoder *d, struct pkt *out)
{
	const uint8_t *th = d->frame + d->off;
	size_t hlen;

	if (!header_fits(d, TCP_HLEN))
		return PKT_ERR_MALFORMED;
	hlen = (size_t)(th[12] >> 4) * 4;
	if (hlen < TCP_HLEN || !header_fits(d, hlen))
		return PKT_ERR_MALFORMED;

	out->t.sport = load_be16(th);
	out->t.dport = load_be16(th + 2);
	out->seq = load_be32(th + 4);
	out->ack = load_be32(th + 8);
	out->tcp_flags = th[13];
	consume(d, hlen);
	return PKT_OK;
}

static int decode_udp(struct decoder *d, struct pkt *out)
{
	const uint8_t *uh = d->frame + d->off;
	size_t ulen;

	if (!header_fits(d, UDP_HLEN))
		return PKT_ERR_MALFORMED;
	ulen = load_be16(uh + 4);
	if (ulen < UDP_HLEN)
		return PKT_ERR_MALFORMED;
	/* A UDP length beyond the IP length is a lie; one below it leaves trailing bytes that are
	 * not part of the datagram. Either way the smaller one bounds the payload. */
	if (ulen < d->len)
		d->len = ulen;

	out->t.sport = load_be16(uh);
	out->t.dport = load_be16(uh + 2);
	consume(d, UDP_HLEN);
	return PKT_OK;
}

int pkt_decode(const uint8_t *frame, size_t caplen, size_t wire_len, enum pkt_link link,
               struct pkt *out)
{
	struct decoder d = {.frame = frame, .caplen = caplen};
	int version, status;

	memset(out, 0, sizeof(*out));
	version = decode_link(frame, caplen, link, &d.off);
	if (version < 0)
		return version;
	/* A wire length below caplen is the caller's mistake; trusting it would let payload_cap
	 * exceed payload_len. */
	d.len = (wire_len > caplen ? wire_len : caplen) - d.off;
	status = version == 4 ? decode_ipv4(&d, out) : decode_ipv6(&d, out);
	if (status < 0)
		return status;

	switch (d.proto) {
	case IPPROTO_TCP:
		status = decode_tcp(&d, out);
		break;
	case IPPROTO_UDP:
		status = decode_udp(&d, out);
		break;
	default:
		return PKT_ERR_PROTO;
	}
	if (status < 0)
		return status;
	/* Only a GSO frame length can get here, and no real one is anywhere near 4 GiB. */
	if (d.len > UINT32_MAX)
		return PKT_ERR_MALFORMED;

	out->t.proto = d.proto;
	out->payload = frame + d.off;
	out->payload_len = (uint32_t)d.len;
	out->payload_cap = (uint32_t)(caplen - d.off < d.len ? caplen - d.off : d.len);
	return PKT_OK;
}

const char *pkt_status_name(int status)
{
	switch (status) {
	case PKT_OK:
		return "ok";
	case PKT_ERR_LINK:
		return "link";
	case PKT_ERR_NOT_IP:
		return "not_ip";
	case PKT_ERR_MALFORMED:
		return "malformed";
	case PKT_ERR_FRAGMENT:
		return "fragment";
	case PKT_ERR_PROTO:
		return "proto";
	default:
		return "unknown";
	}
}
