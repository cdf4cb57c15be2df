#!/bin/sh
# deliver.sh BASE RECIPIENT - the mailbox of the world's receiving Postfix instances.
# Postfix's pipe(8) runs it as nobody with the message on stdin; it stores the message as
# one file in the maildir BASE/RECIPIENT/new/ (written to tmp/ first, then renamed, so a
# test never reads half a message). Exit codes are sysexits.h, which pipe(8) understands.
base=$1 rcpt=$2
case $rcpt in
'' | */* | .*) exit 67 ;; # EX_NOUSER: no such mailbox name
esac
umask 022
dir=$base/$rcpt
mkdir -p "$dir/tmp" "$dir/new" "$dir/cur" || exit 75
name=$(date +%s.%N).$$
cat >"$dir/tmp/$name" && mv "$dir/tmp/$name" "$dir/new/$name" || exit 75
