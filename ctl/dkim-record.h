/*
 * dkim-record.h - a DKIM key record (RFC 6376 section 3.6.1) as
 * "mailwardctl check --selector" reads it.
 *
 * SYNOPSIS
 *   if (ck_dkim_rec_parse(text, len, &r, &why) == 0) ... r.k, r.p, r.testing
 *   ck_dkim_rec_release(&r);
 *
 * DESCRIPTION
 *   A tag-list (section 3.2): "name = value" specs separated by ";", blanks
 *   around names and values allowed, names a letter then letters, digits
 *   and "_", each name at most once, an optional final ";". v, when
 *   present, must be the first tag and "DKIM1". k is the key type (default
 *   "rsa"), p the base64 key with its blanks removed ("" = revoked; only
 *   base64 characters allowed), t=y sets testing. Other tags are skipped.
 *   No NUL bytes, at most CK_DKIM_REC_MAX bytes. Pure: the fuzz target
 *   (fuzz/fuzz-ctl-dkim-record.c) calls it directly.
 */
#ifndef MW_CTL_DKIM_RECORD_H
#define MW_CTL_DKIM_RECORD_H

#include <stddef.h>

#include "mw/err.h"

#define CK_DKIM_REC_MAX 16384

struct ck_dkim_rec {
    char k[32]; /* key type, "rsa" when absent */
    char *p;    /* base64 without blanks; NULL when the tag is missing */
    int testing;
};

/* 0 and r (release it), or -1 with why (r holds nothing then). */
int ck_dkim_rec_parse(const char *text, size_t len, struct ck_dkim_rec *r, struct mw_err *why);
void ck_dkim_rec_release(struct ck_dkim_rec *r);

#endif
