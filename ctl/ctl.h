/*
 * ctl.h - what the mailwardctl commands share.
 *
 * Each command is one function taking the parsed global options and its own
 * argv (argv[0] is the command name). It prints to stdout (JSON with --json)
 * and returns a sysexits.h code.
 */
#ifndef MW_CTL_H
#define MW_CTL_H

#include "mw/buf.h"
#include "mw/config.h"
#include "mw/plugins.h"

struct mw_ctl {
    const char *config_path;
    int config_given;
    int json;
    struct mw_config *cfg;     /* loaded on demand by mw_ctl_load_config */
    struct mw_plugins schema;  /* modules opened to validate plugin sections */
};

struct mw_ctl_command {
    const char *name;
    const char *args;
    const char *help;
    int (*run)(struct mw_ctl *ctl, int argc, char **argv);
};

/* Load and validate the configuration once; problems are logged; -1 on failure. */
int mw_ctl_load_config(struct mw_ctl *ctl);
/* "cache": show or flush a domain's entries in the shared cache (ctl/cache.c). */
int mw_ctl_cmd_cache(struct mw_ctl *ctl, int argc, char **argv);
/* "keys": the OpenPGP keystore (ctl/keys.c). */
int mw_ctl_cmd_keys(struct mw_ctl *ctl, int argc, char **argv);
/* "check": a domain's MTA-STS, DANE, SPF, DMARC and DKIM records (ctl/check.c). */
int mw_ctl_cmd_check(struct mw_ctl *ctl, int argc, char **argv);
/* "sts init": write our MTA-STS policy, print its DNS records (ctl/publish.c). */
int mw_ctl_cmd_sts(struct mw_ctl *ctl, int argc, char **argv);
/* "tlsa": TLSA records of a certificate and of its successor (ctl/publish.c). */
int mw_ctl_cmd_tlsa(struct mw_ctl *ctl, int argc, char **argv);
/* Append s as a JSON string literal. */
void mw_ctl_json_string(struct mw_buf *out, const char *s);

#endif
