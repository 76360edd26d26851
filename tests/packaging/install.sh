#!/usr/bin/env bash
# install.sh — `cmake --install` into a temporary prefix puts the binary, the manual page, the
# web site's files, the docs, the alert rules, the systemd units (naming the installed binary)
# and the sysusers.d file where docs/operations.md says, and the installed binary runs.
#
# usage: tests/packaging/install.sh BUILD_DIR SOURCE_DIR
set -u
if [ $# -ne 2 ]; then
	echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
	exit 2
fi
BUILD=$1
SRC=$2
P=$(mktemp -d "${TMPDIR:-/tmp}/cu-install-XXXXXX") || exit 2
trap 'rm -rf "$P"' EXIT
fail=0
if ! cmake --install "$BUILD" --prefix "$P" >"$P.log" 2>&1; then
	cat "$P.log" >&2
	rm -f "$P.log"
	echo "install: cmake --install failed" >&2
	exit 1
fi
rm -f "$P.log"
for f in bin/custodian share/man/man1/custodian.1 share/custodian/web \
	share/doc/custodian/operations.md share/doc/custodian/configuration.md \
	share/doc/custodian/alerts.yml lib/systemd/system/custodian.service \
	lib/systemd/system/custodian-backup.service lib/systemd/system/custodian-backup.timer \
	lib/sysusers.d/custodian.conf; do
	if [ ! -e "$P/$f" ]; then
		echo "install: missing $f" >&2
		fail=1
	fi
done
# The web site whole: every file of web/ is there.
missing=$(cd "$SRC/web" && find . -type f | while read -r f; do
	[ -f "$P/share/custodian/web/$f" ] || echo "$f"
done)
if [ -n "$missing" ]; then
	echo "install: web files missing: $missing" >&2
	fail=1
fi
# The units run the installed binary, nothing else.
for u in custodian.service custodian-backup.service; do
	if grep -q "/usr/bin/custodian" "$P/lib/systemd/system/$u" ||
		! grep -q "^ExecStart=$P/bin/custodian " "$P/lib/systemd/system/$u"; then
		echo "install: $u does not run $P/bin/custodian" >&2
		fail=1
	fi
done
if ! cmp -s "$P/share/man/man1/custodian.1" "$SRC/man/custodian.1"; then
	echo "install: the installed manual page is not man/custodian.1" >&2
	fail=1
fi
if ! "$P/bin/custodian" --version | grep -q "^custodian "; then
	echo "install: the installed binary does not run" >&2
	fail=1
fi
[ $fail -eq 0 ] && echo "ok: cmake --install puts every file in place"
exit $fail
