#!/usr/bin/env bash
# man_doc.sh — fails when man/custodian.1 is not what `custodian help --man` writes from the
# command line's tables, or when groff (if installed) warns about the page.
#
# usage: tests/cli/man_doc.sh path/to/custodian path/to/man/custodian.1
set -u
if [ $# -ne 2 ]; then
	echo "usage: $0 path/to/custodian path/to/custodian.1" >&2
	exit 2
fi
BIN=$1
PAGE=$2
GEN=$(mktemp "${TMPDIR:-/tmp}/cu-man-XXXXXX") || exit 2
trap 'rm -f "$GEN" "$GEN.warn"' EXIT
if ! "$BIN" help --man >"$GEN"; then
	echo "man_doc: 'custodian help --man' failed" >&2
	exit 1
fi
if ! diff -u "$PAGE" "$GEN"; then
	echo "man_doc: '$PAGE' differs from the command tables;" \
		"regenerate it: custodian help --man > man/custodian.1" >&2
	exit 1
fi
if command -v groff >/dev/null 2>&1; then
	groff -man -Tutf8 -ww -z "$GEN" 2>"$GEN.warn"
	if [ -s "$GEN.warn" ]; then
		echo "man_doc: groff warns about the page:" >&2
		cat "$GEN.warn" >&2
		exit 1
	fi
	echo "ok: '$PAGE' is what the command tables generate, and groff reads it without a warning"
else
	echo "ok: '$PAGE' is what the command tables generate (groff not installed: not linted)"
fi
