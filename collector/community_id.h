/* Community ID flow hashing, version 1 (https://github.com/corelight/community-id-spec): the same
 * string for both directions of a flow, so events join with Zeek, Suricata and Packetbeat. */
#ifndef L7_COMMUNITY_ID_H
#define L7_COMMUNITY_ID_H

#include <stdint.h>

#include "addr.h"

/* "1:" + 28 base64 characters + NUL. */
#define COMMUNITY_ID_LEN 31

/* seed is 0 unless the user configured one. */
void community_id_v1(const struct l7_tuple *t, uint16_t seed, char out[COMMUNITY_ID_LEN]);

#endif
