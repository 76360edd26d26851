# tests/cli/tap.sh — the TAP helpers the command-line tests share (run.sh, errors.sh).
# Sourced after BIN, OUT and ERR are set: "ok N - ..." or "not ok N - ..." per check, with
# what the command printed as diagnostics; the caller prints "N passed, M failed" at the end.
# shellcheck shell=bash disable=SC2034

passed=0
failed=0
n=0
rc=0

ok() {
	n=$((n + 1))
	passed=$((passed + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	# Show what the command said, as TAP diagnostics.
	if [ -s "$OUT" ]; then sed -n '1,20s/^/#   stdout: /p' "$OUT"; fi
	if [ -s "$ERR" ]; then sed -n '1,20s/^/#   stderr: /p' "$ERR"; fi
	echo "#   exit status: $rc"
}

# check DESCRIPTION COMMAND...: ok when COMMAND succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# Runs the binary; keeps stdout, stderr and the exit status.
run() {
	"$BIN" "$@" >"$OUT" 2>"$ERR"
	rc=$?
}

status_is() { [ "$rc" -eq "$1" ]; }
# One line on stderr, "custodian: " and the problem.
one_error_line() {
	[ "$(wc -l <"$ERR")" -eq 1 ] && grep -q '^custodian: ' "$ERR"
}
stdout_has() { grep -q -F -- "$1" "$OUT"; }
stderr_has() { grep -q -F -- "$1" "$ERR"; }
