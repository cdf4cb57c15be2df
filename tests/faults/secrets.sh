#!/bin/sh
# secrets.sh - no password reaches a log, with [general] debug = yes in both daemons:
#  - the world's Redis gets an ACL user with a password; mailward-milter (pgp plugin) and
#    mailward-policyd (mta-sts, tls-rules) use it for their cache ([cache] redis_username,
#    redis_password), and one more policyd is started with a wrong password (AUTH fails and
#    is logged);
#  - an authenticated sender's Encrypt-Password message is encrypted with its password
#    (replayed to the milter), and another one goes through the world's sending Postfix
#    (unauthenticated: the field is removed and ignored) to dave (no key: clear);
#  - then every log the world collected (mailward/*.log, log/*.log but swaks' own
#    transcript, postfix/*/maillog) and the delivered mail are searched for each password.
. "$top_srcdir/tests/world/lib.sh"
command -v gpg >/dev/null || { echo "SKIP: no gpg"; exit 77; }
world_up
T=$WORLD_DIR/secrets
mkdir -p "$T"
PW_MSG="Msg-pw-$$-Zq7"     # the Encrypt-Password of the authenticated message
PW_MTA="Mta-pw-$$-Kx3"     # the one sent through Postfix
PW_REDIS="Redis-pw-$$-Vt9" # the cache's ACL password
PW_WRONG="Wrong-pw-$$-Hd2" # a password Redis refuses
world_exec redis-cli -h 127.0.0.1 -p 6379 ACL SETUSER mwsecret on ">$PW_REDIS" '~*' '+@all' >"$T/acl" 2>&1 &&
    grep -qx OK "$T/acl" || world_fail "redis ACL SETUSER: $(cat "$T/acl")"

KS=$WORLD_GNUPG/milter-secrets
mkdir -m 700 "$KS"
gpg --homedir "$KS" --batch --import "$WORLD_GNUPG/all.asc" 2>/dev/null || world_fail "import keys"
WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter pgp <<CONF
[general]
debug = yes
[cache]
redis_username = mwsecret
redis_password = $PW_REDIS
[milter]
internal_hosts = 127.0.0.0/8
[pgp]
gnupg_home = $KS
sign = never
reinject =
CONF
world_start_policyd "mta-sts tls-rules" <<CONF
[general]
debug = yes
[cache]
redis_username = mwsecret
redis_password = $PW_REDIS
CONF
grep -q 'debug: ' "$WORLD_DIR/mailward/policyd.log" || world_fail "policyd logs no debug lines" # (the milter has few debug lines; the same [general] lines turn them on)

# The wrong password: a policyd of its own on other ports; its lookups still answer.
sed -e "s/^redis_password = .*/redis_password = $PW_WRONG/" \
    -e "s/^socketmap_listen = .*/socketmap_listen = 127.0.0.1:18462/" \
    -e "s/^policy_listen = .*/policy_listen =/" -e "s/^metrics_listen = 127.0.0.1:9470/metrics_listen =/" \
    -e "s|^pid_file = .*|pid_file = $T/wrong.pid|" "$WORLD_DIR/mailward/policyd.conf" >"$T/wrong.conf"
chmod 600 "$T/wrong.conf"
ip netns exec "$WORLD_NS" "$top_builddir/policyd/mailward-policyd" -f -c "$T/wrong.conf" </dev/null \
    >"$WORLD_DIR/mailward/policyd-wrong.log" 2>&1 &
WORLD_DAEMONS="${WORLD_DAEMONS:-} policyd-wrong:$!"
world_exec /usr/bin/python3 "$top_srcdir/tests/world/wait-ports.py" "$WORLD_WAIT" 127.0.0.1:18462 ||
    world_fail "the wrong-password policyd did not start"
for d in valid.test sts.test enforce.sts.test; do
    world_socketmap "$d" >/dev/null
    world_exec postmap -q "$d" socketmap:inet:127.0.0.1:18462:mailward >/dev/null
done
world_wait_for 10 grep -qi 'redis.*\(auth\|WRONGPASS\|invalid username-password\)' \
    "$WORLD_DIR/mailward/policyd-wrong.log" || world_fail "the refused AUTH is not logged"
echo "ok 1 both daemons on Redis with an ACL password (debug on); a wrong password is logged as refused"

# The authenticated sender's password message, replayed to the milter.
cat >"$T/pw.eml" <<EOF
From: Alice <alice@valid.test>
To: Bob <bob@valid.test>
Subject: secrets $$
Encrypt-Password: $PW_MSG
Message-ID: <secrets-$$@valid.test>

the plan
EOF
out=$(MW_CLIENT_AUTH=alice world_exec /usr/bin/python3 "$top_srcdir/tests/pgp/client.py" 8891 \
    127.0.0.1 "$T/pw.eml" "$T/out.eml" alice@valid.test bob@valid.test)
[ "$out" = accept ] || world_fail "password message: $out"
grep -q 'pgp=password-encrypted' "$WORLD_DIR/mailward/milter.log" || world_fail "not password-encrypted"
grep -q 'the plan' "$T/out.eml" && world_fail "clear text left the milter"
# Through Postfix: unauthenticated, so the field is dropped and ignored.
token=secrets-$$-$(date +%s)
world_send alice@valid.test dave@valid.test --h-Subject "$token" --header "Encrypt-Password: $PW_MTA"
msg=$(world_wait_delivered valid dave@valid.test)
grep -q "$token" "$msg" || world_fail "not the message sent"
grep -qi '^Encrypt-Password' "$msg" && world_fail "the field reached the mailbox"
grep -q 'pgp-password=ignored' "$WORLD_DIR/mailward/milter.log" || world_fail "ignored field not logged"
echo "ok 2 Encrypt-Password messages: replayed (encrypted) and through Postfix (field removed, to dave: no key)"

world_stop_daemons
logs=$(ls "$WORLD_DIR"/mailward/*.log "$WORLD_DIR"/postfix/*/maillog 2>/dev/null
    ls "$WORLD_DIR"/log/*.log 2>/dev/null | grep -v '/swaks\.log$')
[ "$(echo "$logs" | grep -c 'maillog$')" -ge 1 ] || world_fail "no Postfix maillog to search"
[ "$(echo "$logs" | grep -c '/mailward/')" -ge 3 ] || world_fail "daemon logs missing: $logs"
for pw in "$PW_MSG" "$PW_MTA" "$PW_REDIS" "$PW_WRONG"; do
    hits=$(echo "$logs" | xargs grep -lF -e "$pw" 2>/dev/null)
    [ -z "$hits" ] || world_fail "password $pw is in: $hits"
    hits=$(grep -rlF -e "$pw" "$WORLD_MAIL" 2>/dev/null)
    [ -z "$hits" ] || world_fail "password $pw is in delivered mail: $hits"
done
echo "ok 3 no password in $(echo "$logs" | wc -l) logs nor in delivered mail"
echo "3 passed, 0 failed"
