# postfix.sh - the Postfix instances of the test world (sourced by world.sh)
#
# postfix_make: $W/postfix/sender (127.0.0.2:25, see postfix/sender.cf) and one
# $W/postfix/NAME per line of mx.list (see postfix/mx.cf), each a private instance with
# its own config, queue and data directories and log file ($W/postfix/NAME/maillog),
# master.cf without chroot, so they never meet a system Postfix or each other.
# postfix_start: starts them all inside the namespace.

# postfix_instance NAME ADDR KIND...: writes $W/postfix/NAME/main.cf from common.cf and the
# fragments KIND.cf, then the lines read from stdin.
postfix_instance() {
    local name addr dir kind
    name=$1 addr=$2
    shift 2
    dir=$W/postfix/$name
    mkdir -p "$dir/queue" "$dir/data" || return 1
    sed -e "s|@WORLD@|$W|g" -e "s|@MAIL@|$W/mail/$name|g" "$here/postfix/master.cf" >"$dir/master.cf"
    for kind in common "$@"; do cat "$here/postfix/$kind.cf"; done >"$dir/main.cf.in"
    cat >>"$dir/main.cf.in"
    sed -e "s|@DIR@|$dir|g" -e "s|@NAME@|$name|g" -e "s|@ADDR@|$addr|g" -e "s|@CA@|$W/pki/ca.pem|g" \
        -e "s|@PKI@|$W/pki|g" -e "s|@MAIL@|$W/mail/$name|g" -e "s|@MILTER@|$WORLD_MILTER_SOCKET|g" \
        -e "s|@SOCKETMAP@|$WORLD_SOCKETMAP|g" "$dir/main.cf.in" >"$dir/main.cf"
    rm -f "$dir/main.cf.in"
    postfix_queue "$dir"
}

# postfix_queue DIR: the queue and data directories as post-install(1) would make them.
# Made here, with a "quick-start" file, so that "postfix start" skips its integrity checks
# (they fork hundreds of processes and would take seconds per instance).
postfix_queue() {
    local q sub
    q=$1/queue
    for sub in active bounce corrupt defer deferred flush hold incoming private saved trace; do
        mkdir -p -m 700 "$q/$sub" || return 1
    done
    mkdir -p -m 730 "$q/maildrop" && mkdir -p -m 710 "$q/public" && mkdir -p -m 755 "$q/pid" || return 1
    chown postfix "$q"/* "$1/data" && chgrp postdrop "$q/maildrop" "$q/public" && chown root "$q/pid" &&
        chmod 700 "$1/data" && touch "$q/quick-start"
}

postfix_make() {
    local name addr tls names
    mkdir -p "$W/postfix" "$W/mail" || return 1
    # A copy that user nobody can read even when the source tree is private.
    cp "$here/deliver.sh" "$W/deliver.sh" && chmod 755 "$W/deliver.sh" || return 1
    postfix_instance sender 127.0.0.2 sender </dev/null || return 1
    while read -r name addr tls names; do
        mkdir -p "$W/mail/$name" && chown 65534:65534 "$W/mail/$name" || return 1
        if [ "$tls" = none ]; then
            echo "smtpd_tls_security_level = none"
        else
            printf 'smtpd_tls_security_level = may\nsmtpd_tls_chain_files = %s\n' "$W/pki/mx-$name.chain"
        fi | postfix_instance "$name" "$addr" mx || return 1
    done <<LIST
$(grep -v '^#' "$here/mx.list" | grep .)
LIST
}

# postfix_names: sender and every MX name.
postfix_names() {
    echo sender
    grep -v '^#' "$here/mx.list" | awk 'NF { print $1 }'
}

postfix_start() {
    local name pids
    pids=""
    for name in $(postfix_names); do
        world_exec postfix -c "$W/postfix/$name" start >"$W/log/postfix-$name.start" 2>&1 &
        pids="$pids $!"
    done
    for p in $pids; do wait "$p" || return 1; done
}
