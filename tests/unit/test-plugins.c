/*
 * test-plugins.c - unit tests of lib/plugin.c with the test modules of
 * tests/plugins (probe, badabi, nosym, wrongname) and of configuration
 * validation against the sections the installed modules declare.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mw/alloc.h"
#include "mw/daemon.h"
#include "mw/log.h"
#include "mw/msg-host.h"
#include "mw/plugins.h"

#define DIR MW_TEST_PLUGIN_DIR

static void
test_probe_loads_and_runs(void **state)
{
    struct mw_plugins ps = {0};
    char *names[] = {"probe", NULL};
    struct mw_host host = {.program = "test"};
    struct mw_err err;
    struct mw_config *cfg;
    struct mw_msg *m;
    const struct mw_milter_hooks *k;
    const char *text = "[probe]\nverdict = reject\nstage = mail\nreason = go away\n";
    const char *rc, *xc, *reply;

    assert_int_equal(mw_plugins_open(&ps, DIR, names, &err), 0);
    assert_int_equal(ps.n, 1);
    assert_string_equal(ps.v[0].plugin->name, "probe");
    /* Validation needs the probe's own section next to the core ones. */
    cfg = mw_config_parse("t.conf", text, strlen(text), &err);
    assert_non_null(cfg);
    const struct mw_cfg_section *secs[] = {mw_cfg_core_sections[0], mw_cfg_core_sections[1],
                                           mw_cfg_core_sections[2], mw_cfg_core_sections[3],
                                           mw_cfg_core_sections[4], ps.v[0].plugin->sections[0]};
    assert_int_equal(mw_config_validate(cfg, secs, 6), 0);
    assert_int_equal(mw_plugins_start(&ps, &host, cfg, &err), 0);

    k = ps.v[0].plugin->milter;
    m = mw_msg_create(1);
    mw_msg_set_plugin(m, 0);
    mw_msg_set_mail_from(m, "<a@example.org>");
    assert_int_equal(k->mail(ps.v[0].state, m), MW_REJECT);
    assert_int_equal(mw_msg_reply(m, &rc, &xc, &reply), 0);
    assert_string_equal(rc, "550");
    assert_string_equal(reply, "go away");
    k->done(ps.v[0].state, m);
    mw_msg_reset(m);
    mw_msg_free(&m);

    mw_plugins_close(&ps);
    assert_null(ps.v);
    mw_config_free(&cfg);
}

static void
test_badabi_refused(void **state)
{
    struct mw_plugin_handle h;
    struct mw_err err;
    char want[64];

    assert_int_equal(mw_plugin_open_file(DIR "/badabi.so", "badabi", &h, &err), -1);
    snprintf(want, sizeof(want), "plugin ABI %d", MW_PLUGIN_ABI + 1);
    assert_non_null(strstr(err.text, want));
    snprintf(want, sizeof(want), "needs ABI %d", MW_PLUGIN_ABI);
    assert_non_null(strstr(err.text, want));
}

static void
test_nosym_refused(void **state)
{
    struct mw_plugin_handle h;
    struct mw_err err;

    assert_int_equal(mw_plugin_open_file(DIR "/nosym.so", "nosym", &h, &err), -1);
    assert_non_null(strstr(err.text, MW_PLUGIN_SYMBOL));
}

static void
test_missing_and_wrong_name(void **state)
{
    struct mw_plugins ps = {0};
    char *missing[] = {"nonexistent", NULL};
    char *wrong[] = {"wrongname", NULL};
    char *twice[] = {"probe", "probe", NULL};
    char *path[] = {"../probe", NULL};
    struct mw_err err;

    assert_int_equal(mw_plugins_open(&ps, DIR, missing, &err), -1);
    assert_non_null(strstr(err.text, "nonexistent.so"));
    assert_int_equal(mw_plugins_open(&ps, DIR, wrong, &err), -1);
    assert_non_null(strstr(err.text, "wrongname.so"));
    assert_non_null(strstr(err.text, "other"));
    assert_int_equal(ps.n, 0);
    assert_int_equal(mw_plugins_open(&ps, DIR, twice, &err), -1);
    assert_non_null(strstr(err.text, "twice"));
    mw_plugins_close(&ps);
    assert_int_equal(mw_plugins_open(&ps, DIR, path, &err), -1);
    mw_plugins_close(&ps);
}

/* Run mw_daemon_config on text; return its result and what it logged. */
static int
daemon_config(const char *text, char *log, size_t loglen)
{
    char path[] = "/tmp/mw-test-plugins-XXXXXX";
    char logpath[] = "/tmp/mw-test-plugins-log-XXXXXX";
    struct mw_daemon_opts o = {.program = "test", .config_given = 1};
    struct mw_plugins schema = {0};
    struct mw_config *cfg;
    int fd = mkstemp(path), lfd = mkstemp(logpath), saved = dup(2);
    FILE *f;
    size_t n;
    int rc;

    assert_true(fd >= 0 && lfd >= 0 && saved >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    o.config_path = path;
    fflush(stderr);
    dup2(lfd, 2);
    cfg = mw_daemon_config(&o, &schema);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    f = fdopen(lfd, "r");
    rewind(f);
    n = fread(log, 1, loglen - 1, f);
    log[n] = '\0';
    fclose(f);
    unlink(logpath);
    unlink(path);
    rc = cfg == NULL ? -1 : 0;
    mw_config_free(&cfg);
    mw_plugins_close(&schema);
    /* The file name is random: report it in the log as "FILE". */
    for (char *p; (p = strstr(log, path)) != NULL;) {
        memmove(p + 4, p + strlen(path), strlen(p + strlen(path)) + 1);
        memcpy(p, "FILE", 4);
    }
    return rc;
}

static void
test_config_knows_plugin_sections(void **state)
{
    char log[8192];

    assert_int_equal(daemon_config("[general]\nplugin_dir = " DIR "\n[probe]\nverdict = reject\n",
                                   log, sizeof(log)),
                     0);
    assert_int_equal(daemon_config("[general]\nplugin_dir = " DIR
                                   "\n[probe]\nverdict = reject\ncolour = red\n",
                                   log, sizeof(log)),
                     -1);
    assert_non_null(strstr(log, "FILE:5:"));
    assert_non_null(strstr(log, "colour"));
    /* Without the module in plugin_dir, [probe] is an unknown section. */
    assert_int_equal(daemon_config("[general]\nplugin_dir = /nonexistent\n[probe]\nverdict = "
                                   "reject\n",
                                   log, sizeof(log)),
                     -1);
    assert_non_null(strstr(log, "FILE:4: unknown section [probe]"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_loads_and_runs),
        cmocka_unit_test(test_badabi_refused),
        cmocka_unit_test(test_nosym_refused),
        cmocka_unit_test(test_missing_and_wrong_name),
        cmocka_unit_test(test_config_knows_plugin_sections),
    };
    mw_log_open("test-plugins", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
