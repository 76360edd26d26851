#!/usr/bin/env bash
# config_doc.sh — fails when docs/configuration.md is not what the settings
# table generates (`custodian config --markdown`): the manual and the table
# in src/util/config.c are one source.
#
# usage: tests/cli/config_doc.sh path/to/custodian path/to/docs/configuration.md
set -u
if [ $# -ne 2 ]; then
	echo "usage: $0 path/to/custodian path/to/configuration.md" >&2
	exit 2
fi
BIN=$1
DOC=$2
GEN=$(mktemp "${TMPDIR:-/tmp}/cu-config-doc-XXXXXX") || exit 2
trap 'rm -f "$GEN"' EXIT
if ! "$BIN" config --markdown >"$GEN"; then
	echo "config_doc: 'custodian config --markdown' failed" >&2
	exit 1
fi
if ! diff -u "$DOC" "$GEN"; then
	echo "config_doc: '$DOC' differs from the settings table;" \
		"regenerate it: custodian config --markdown > docs/configuration.md" >&2
	exit 1
fi
echo "ok: '$DOC' is what the settings table generates"
