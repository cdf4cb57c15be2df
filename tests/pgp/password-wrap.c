/*
 * password-wrap.c - test driver for mw_pgp_password_wrap(): the message on
 * stdin, the entity on stdout. The keystore is opened in HOME (created,
 * gpg.conf written) and its context is used, as the pgp plugin would.
 *
 *   MW_TEST_PASSWORD=P password-wrap HOME [EXPLANATION] < message > entity
 */
#include "config.h"

#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>

#include "mw/keystore.h"
#include "password.h"

int
main(int argc, char **argv)
{
    const char *password = getenv("MW_TEST_PASSWORD");
    struct mw_keystore *ks;
    struct mw_buf msg, out;
    struct mw_err err;
    char chunk[8192];
    size_t n;
    int rc;

    if (argc < 2 || password == NULL) {
        fprintf(stderr, "usage: MW_TEST_PASSWORD=P password-wrap HOME [EXPLANATION]\n");
        return 64;
    }
    if ((ks = mw_keystore_open(argv[1], NULL, MW_KEYSTORE_CREATE | MW_KEYSTORE_STOP_AGENT,
                               &err)) == NULL) {
        fprintf(stderr, "password-wrap: %s\n", err.text);
        return 1;
    }
    g_mime_init();
    mw_buf_init(&msg);
    mw_buf_init(&out);
    while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
        mw_buf_append(&msg, chunk, n);
    rc = mw_pgp_password_wrap(mw_keystore_ctx(ks), msg.data, msg.len, password,
                              argc > 2 ? argv[2] : NULL, &out, &err);
    if (rc < 0)
        fprintf(stderr, "password-wrap: %s\n", err.text);
    else
        fwrite(out.data, 1, out.len, stdout);
    mw_buf_release(&msg);
    mw_buf_release(&out);
    mw_keystore_close(&ks);
    g_mime_shutdown();
    return rc < 0 ? 1 : 0;
}
