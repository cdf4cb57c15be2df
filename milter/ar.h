/*
 * ar.h - reading the authserv-id of an Authentication-Results header.
 *
 * RFC 8601 section 2.2: the field body is [CFWS] authserv-id [CFWS version]
 * ";" ..., where authserv-id is a MIME "value" (a token or a quoted-string)
 * and CFWS may hold nested comments with quoted-pairs. The milter uses this
 * to delete every header that claims our authserv-id and keep the others.
 *
 * A pure function (bytes in, string or error out), so it has a fuzz target
 * (fuzz/fuzz-ar-header.c). Thread-safe.
 */
#ifndef MW_AR_H
#define MW_AR_H

#include <stddef.h>

#include "mw/buf.h"
#include "mw/err.h"

/*
 * Parse the authserv-id at the start of the header value (len bytes, need
 * not be NUL-terminated) into id (reset first; quoted-pairs undone).
 * Returns 0, or -1 with err set when the value does not start with a
 * well-formed authserv-id.
 */
int mw_ar_authserv_id(const char *value, size_t len, struct mw_buf *id, struct mw_err *err);

#endif
