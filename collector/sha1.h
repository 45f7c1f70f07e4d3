/* SHA-1 (FIPS 180-4), for Community ID hashes only: not used for anything that needs security. */
#ifndef L7_SHA1_H
#define L7_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_LEN 20

void sha1(const void *data, size_t len, uint8_t out[SHA1_DIGEST_LEN]);

#endif
