#!/bin/bash
# tests/cli/errors.sh — the command line's refusals and failure messages.
#
#   tests/cli/errors.sh path/to/custodian     (CU_SOURCE_DIR = the source tree;
#                                               CU_FAULT_SHIM = fail_writes.so, optional)
#
# What run.sh does not: each command's own usage errors, each command given a data
# directory that cannot be opened, and commands whose own file cannot be written (the
# LD_PRELOAD shim tests/faults/fail_writes.c makes the disk under it full).  Every check asserts
# the exit status, that stderr is one "custodian: " line (or names the problem) and,
# where the command would write, that nothing was written.
#
# Prints "ok N - ..." or "not ok N - ..." per check, then "N passed, M failed".
# shellcheck disable=SC2016,SC2034
set -u

BIN=${1:-}
if [ -z "$BIN" ] || [ ! -x "$BIN" ]; then
	echo "usage: $0 path/to/custodian" >&2
	exit 2
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
SHIM=${CU_FAULT_SHIM:-$(dirname "$BIN")/fail_writes.so}
TAP=$(cd "$(dirname "$0")" && pwd)/tap.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/cu-clierr-XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
unset CUSTODIAN_DATA CUSTODIAN_MASTER_KEY
cd "$T" || exit 2

OUT=$T/stdout
ERR=$T/stderr
# shellcheck source=tests/cli/tap.sh
. "$TAP"
usage_error() { status_is 2 && one_error_line && [ ! -s "$OUT" ]; }
# The number of audit entries in a data directory (sqlite3 from python: no personal data read).
audit_count() {
	python3 -c "import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute('select count(*) from audit').fetchone()[0])" \
		"$1/custodian.db" 2>/dev/null
}

D=$T/data
"$BIN" --data "$D" init >/dev/null 2>&1 || {
	echo "not ok 1 - init failed"
	echo "0 passed, 1 failed"
	exit 1
}

# ---- usage errors: each refused before anything is opened -------------------------

NONE=$T/never-made
usage() {
	local desc=$1
	shift
	run --data "$NONE" "$@"
	check "$desc: exit 2, one line, nothing made" eval 'usage_error && [ ! -e "$NONE" ]'
}
usage "'backup verify' with two files" backup verify a.cubackup b.cubackup
usage "'backup prune' with an argument" backup prune extra
usage "'restore' with two files" restore a.cubackup b.cubackup --into x
usage "'restore' without --into" restore a.cubackup
usage "'breach assess' without a window" breach assess
usage "'breach assess --since' twice" breach assess --since 2026-01-01T00:00:00Z \
	--since 2026-01-02T00:00:00Z --until 2026-01-03T00:00:00Z
usage "'breach assess --until' twice" breach assess --since 2026-01-01T00:00:00Z \
	--until 2026-01-02T00:00:00Z --until 2026-01-03T00:00:00Z
usage "'breach assess' with two selectors" breach assess --since 2026-01-01T00:00:00Z \
	--until 2026-01-02T00:00:00Z --token a --key 1
usage "'breach assess' with a stray argument" breach assess --since 2026-01-01T00:00:00Z \
	--until 2026-01-02T00:00:00Z stray
run --data "$NONE" breach assess --since 2026-01-01T00:00:00Z --until yesterday
check "'breach assess' with a malformed --until names it" \
	eval 'usage_error && stderr_has "malformed --until"'
run --data "$NONE" breach assess --since 2026-01-01T00:00:00Z --until 2026-01-02T00:00:00Z --token ""
check "'breach assess --token \"\"': the selector needs an id" \
	eval 'usage_error && stderr_has "needs an id"'
for key in 0 abc 99999999999 4294967296 ""; do
	usage "'breach assess --key $key'" breach assess --since 2026-01-01T00:00:00Z \
		--until 2026-01-02T00:00:00Z --key "$key"
done
usage "'keys retire' with two trees" keys retire 2 3
usage "'keys retire' without a tree" keys retire
usage "'keys retire 4294967296'" keys retire 4294967296
usage "'keys retire' of an empty id" keys retire ""
usage "'requests show' without an id" requests show
usage "'requests show' with two ids" requests show a b
usage "'requests decide' without --action" requests decide abc
usage "'requests decide' with an unknown --action" requests decide abc --action nap
usage "'requests decide --ground' for an action that is not refuse" requests decide abc \
	--action apply --ground breach_of_law
usage "'requests decide' with two ids" requests decide a b --action apply
usage "'requests file' without --type" requests file m1
usage "'requests file' without a member" requests file --type erasure
usage "'requests file --change' without '='" requests file m1 --type amendment --change email
usage "'requests file --change' with an empty field" requests file m1 --type amendment \
	--change =x
usage "'requests file' with two members" requests file m1 m2 --type erasure
usage "'complaints respond' without text or --close" complaints respond c1
usage "'complaints respond' with two ids" complaints respond c1 c2 --close
usage "'complaints file' without --text" complaints file m1 --about service
usage "'complaints file' with two members" complaints file m1 m2 --about a --text t
usage "'complaints show' without an id" complaints show
usage "'third-party add' without --fields" third-party add --id acme --name Acme \
	--contact a@b --purpose p
usage "'subcontractor add' without a measure" subcontractor add --id s --name S --contact c \
	--fields email --purposes support --start 2026-01-01 --end 2027-01-01
usage "'subcontractor add' with a stray argument" subcontractor add stray
usage "'provisions purge' without --before" provisions purge
usage "'exceptions close' without --review" exceptions close e1
usage "'exceptions close' with two ids" exceptions close e1 e2 --review r
usage "'exceptions close' with an empty --review" exceptions close e1 --review ""
usage "'notify test' without --member" notify test
usage "'notify test --member' twice" notify test --member a --member b
for max in 0 x -1 1e3 99999999999999999999; do
	usage "'notify deliver --max $max'" notify deliver --max "$max"
done
usage "'consent set' without --granted" consent set m1 --kind purpose --target support
usage "'consent set' with two members" consent set m1 m2 --kind purpose --target t --granted yes
usage "'member erase' without an id" member erase
usage "'member erase' with two ids" member erase a b
usage "'token create' without --name" token create --role staff
usage "'token revoke' with two ids" token revoke a b
usage "'policy check' with two files" policy check a.json b.json
usage "'policy publish' without a file" policy publish
usage "'serve' with an unknown setting flag" serve --no.such-setting 1
usage "'retention plan' with an argument" retention plan extra
usage "'records' with an argument" records extra
run --data "$NONE"
check "'--data DIR' and no command: the usage, exit 2" eval 'status_is 2 && stderr_has "usage:"'

# ---- a data directory that cannot be opened ----------------------------------------

# Each command below is well formed; it fails at opening the data directory: exit 1, one
# line, and the directory is not made.
no_dir() {
	local desc=$1
	shift
	run --data "$NONE" "$@"
	check "$desc, no data directory: exit 1, one line, nothing made" \
		eval 'status_is 1 && one_error_line && [ ! -s "$OUT" ] && [ ! -e "$NONE" ]'
}
no_dir "'audit verify'" audit verify
no_dir "'audit checkpoint'" audit checkpoint --out "$T/ck"
no_dir "'backup'" backup --to "$T/never.cubackup"
no_dir "'backup prune'" backup prune
no_dir "'breach assess'" breach assess --since 2026-01-01T00:00:00Z --until 2026-01-02T00:00:00Z
no_dir "'requests list'" requests list
no_dir "'requests show'" requests show abc
no_dir "'requests decide'" requests decide abc --action investigate
no_dir "'requests file'" requests file m1 --type erasure
no_dir "'complaints list'" complaints list
no_dir "'complaints show'" complaints show c1
no_dir "'complaints respond'" complaints respond c1 --text hello
no_dir "'complaints file'" complaints file m1 --about other --text hello
no_dir "'exceptions list'" exceptions list
no_dir "'exceptions close'" exceptions close e1 --review "reviewed"
no_dir "'keys status'" keys status
no_dir "'keys rotate --tree'" keys rotate --tree
no_dir "'keys rotate --backup'" keys rotate --backup
no_dir "'keys retire'" keys retire 1
no_dir "'keys reconcile'" keys reconcile
no_dir "'member erase'" member erase abc
no_dir "'notify deliver'" notify deliver
no_dir "'notify test'" notify test --member abc
no_dir "'policy versions'" policy versions
no_dir "'policy publish'" policy publish "$D/policy.json"
no_dir "'consent set'" consent set m1 --kind purpose --target support --granted yes
no_dir "'records'" records
no_dir "'retention plan'" retention plan
no_dir "'retention run'" retention run
no_dir "'third-party add'" third-party add --id acme --name Acme --contact a@example.com \
	--purpose delivery --fields email
no_dir "'third-party list'" third-party list
no_dir "'subcontractor list'" subcontractor list
no_dir "'provisions purge'" provisions purge --before 2020-01-01
no_dir "'token create'" token create --role staff --name Desk
no_dir "'token list'" token list
no_dir "'token revoke'" token revoke abc

# ---- refusals in a working data directory -------------------------------------------

run --data "$D" keys status
check "'keys status' prints the keys, the keyring and the members, no key material" \
	eval 'status_is 0 && stdout_has "master keys: 1 (current)" && stdout_has "keyring: sealed under master key 1" &&
	      stdout_has "(current):" && stdout_has "members: 0 live, 0 erased" &&
	      ! grep -q -i -E "[0-9a-f]{32}" "$OUT"'
run --data "$D" keys retire 77
check "'keys retire' of an unknown tree: exit 1, one line naming it" \
	eval 'status_is 1 && one_error_line && stderr_has "tree 77 not retired"'
run --data "$D" keys status --json
current=$(python3 -c "import json,sys; print([t['id'] for t in json.load(open(sys.argv[1]))['keyring']['trees'] if t['current']][0])" "$OUT" 2>/dev/null)
run --data "$D" keys retire "$current"
check "'keys retire' of the current tree: exit 1, refused" \
	eval '[ -n "$current" ] && status_is 1 && one_error_line && stderr_has "not retired"'
check "... and the tree is still there" \
	eval '"$BIN" --data "$D" keys status | grep -q "tree $current (current)"'
CUSTODIAN_MASTER_KEY=$(head -c 32 /dev/urandom | base64) run --data "$D" keys rotate --master
check "'keys rotate --master' with the master key from the environment: refused" \
	eval 'status_is 1 && one_error_line && [ ! -s "$OUT" ]'

run --data "$D" requests decide nosuchrequest --action investigate
check "'requests decide' of an unknown request: exit 1, one line" \
	eval 'status_is 1 && one_error_line'
run --data "$D" requests file nosuchmember --type erasure
check "'requests file' for an unknown member: exit 1, 'no member'" \
	eval 'status_is 1 && one_error_line && stderr_has "no member"'
run --data "$D" complaints file nosuchmember --about other --text hello
check "'complaints file' for an unknown member: exit 1, 'no member'" \
	eval 'status_is 1 && one_error_line && stderr_has "no member"'
run --data "$D" complaints respond nosuchcomplaint --text hello
check "'complaints respond' to an unknown complaint: exit 1, one line" \
	eval 'status_is 1 && one_error_line'
run --data "$D" consent set nosuchmember --kind purpose --target support --granted yes
check "'consent set' for an unknown member: exit 1, 'no member'" \
	eval 'status_is 1 && one_error_line && stderr_has "no member"'
run --data "$D" notify test --member nosuchmember
check "'notify test' for an unknown member: exit 1, 'no member'" \
	eval 'status_is 1 && one_error_line && stderr_has "no member"'
run --data "$D" member erase nosuchmember
check "'member erase' of an unknown member: exit 1, one line" eval 'status_is 1 && one_error_line'
run --data "$D" token revoke nosuchtoken
check "'token revoke' of an unknown token: exit 1, one line" eval 'status_is 1 && one_error_line'
run --data "$D" exceptions close nosuchexception --review "looked at it"
check "'exceptions close' of an unknown exception: exit 1, one line" \
	eval 'status_is 1 && one_error_line'
run --data "$D" token list
check "'token list' with only the first officer token lists it" \
	eval 'status_is 0 && [ "$(wc -l <"$OUT")" -ge 1 ]'
run --data "$D" retention plan
check "'retention plan' of an empty store: the header and nothing due" \
	eval 'status_is 0 && [ "$(wc -l <"$OUT")" -eq 2 ] && stdout_has "0 due now, 0 later"'
run --data "$D" backup prune
check "'backup prune' with no backups: removes nothing, exit 0" \
	eval 'status_is 0 && stdout_has "removed 0"'
run --data "$D" breach assess --since 2026-01-01T00:00:00Z --until 2026-01-02T00:00:00Z --json
check "'breach assess' of a window with no data: exit 0, nobody affected" \
	eval 'status_is 0 && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if isinstance(d, dict) else 1)" "$OUT"'
run --data "$D" breach assess --since 2026-01-02T00:00:00Z --until 2026-01-01T00:00:00Z
check "'breach assess' with --until before --since: refused" \
	eval '[ "$rc" -ne 0 ] && one_error_line'

run --data "$D" third-party add --id acme --name Acme --contact a@example.com \
	--purpose delivery --fields email
check "'third-party add' registers it" eval 'status_is 0'
run --data "$D" third-party add --id acme --name Acme --contact a@example.com \
	--purpose delivery --fields email
check "'third-party add' of an id that exists: exit 1, says so" \
	eval 'status_is 1 && one_error_line && stderr_has "a third party with this id exists"'
many=$(seq -s, -f "f%g" 1 70)
run --data "$D" third-party add --id acme2 --name Acme --contact a@example.com \
	--purpose delivery --fields "$many"
check "'third-party add' with more --fields than any policy has: exit 2" \
	eval 'status_is 2 && one_error_line && stderr_has "too many --fields"'
sub_args=(--id callc --name "Call Centre" --contact sec@cc.example --fields "name,email"
	--purposes support --start 2026-01-01 --end 2999-12-31 --measure "encryption at rest")
run --data "$D" subcontractor add "${sub_args[@]}"
check "'subcontractor add' registers it" eval 'status_is 0'
run --data "$D" subcontractor add "${sub_args[@]}"
check "'subcontractor add' of an id that exists: exit 1, says so" \
	eval 'status_is 1 && one_error_line && stderr_has "a subcontractor with this id exists"'
run --data "$D" subcontractor add --id callc2 --name "Call Centre" --contact sec@cc.example \
	--fields "$many" --purposes support --start 2026-01-01 --end 2999-12-31 --measure m
check "'subcontractor add' with too many --fields: exit 2" \
	eval 'status_is 2 && one_error_line && stderr_has "too many --fields or --purposes"'
run --data "$D" subcontractor list
check "'subcontractor list' lists the one registered" \
	eval 'status_is 0 && stdout_has "callc" && [ "$(grep -c callc "$OUT")" -eq 1 ]'
run --data "$D" token create --role subcontractor --name "Call desk" --contract nobody
check "'token create --contract' of no subcontractor: exit 1, names it" \
	eval 'status_is 1 && one_error_line && stderr_has "no subcontractor '"'"'nobody'"'"'"'
run --data "$D" token create --role staff --name ""
check "'token create --name \"\"': exit 2, empty --name" \
	eval 'status_is 2 && one_error_line && stderr_has "empty --name"'
run --data "$D" token create --role staff --name $'\xff\xfe'
check "'token create' with a name that is not UTF-8: exit 2" \
	eval 'status_is 2 && one_error_line && stderr_has "not valid UTF-8"'

# "--" ends the options: what follows is an argument, even "--help".
run --data "$D" token revoke -- --help
check "'token revoke -- --help' takes '--help' as the id: no token, exit 1" \
	eval 'status_is 1 && one_error_line && stderr_has "no token '"'"'--help'"'"'"'
run --data "$D" token revoke --
check "'token revoke --' with nothing after: exit 2, expected one ID" \
	eval 'usage_error && stderr_has "expected one ID"'
run token -h
check "'-h' is '--help'" eval 'status_is 0 && stdout_has "usage: custodian"'
run --data "$D" audit checkpoint --out "$T/ck-good"
check "'audit checkpoint --out' writes a signed head" eval 'status_is 0 && [ -s "$T/ck-good" ]'
run --data "$D" audit verify --checkpoint "$T/ck-good"
check "'audit verify --checkpoint' of a good one: the newest covers an entry" \
	eval 'status_is 0 && stdout_has "all good; the newest covers entry"'
echo "not a checkpoint" >"$T/ck-bad"
run --data "$D" audit verify --checkpoint "$T/ck-bad"
check "'audit verify --checkpoint' of a file that is not one: exit 1, names the line" \
	eval 'status_is 1 && stderr_has "line 1: not a checkpoint"'
run --data "$D" audit checkpoint --out "$T/no-such-dir/ck"
check "'audit checkpoint --out' into a missing directory: exit 1, one line naming it" \
	eval 'status_is 1 && one_error_line && stderr_has "cannot write" && stderr_has "no-such-dir"'

# ---- with members ------------------------------------------------------------------

M=$T/members
"$BIN" --data "$M" init >/dev/null 2>&1
cat >"$T/two.csv" <<'CSV'
name,address,phone,email
Ophelia Wrenfeather,1 Errand Way,03-5555-0199,ophelia.wrenfeather@example.org
Percival Ashgrove,2 Errand Way,03-5555-0198,percival.ashgrove@example.org
CSV
"$BIN" --data "$M" import "$T/two.csv" >/dev/null 2>&1
run --data "$M" member find --email ophelia.wrenfeather@example.org
MEMBER=$(cat "$OUT")
run --data "$M" keys status
check "'keys status' with members: how many each tree wraps" \
	eval 'status_is 0 && stdout_has "members: 2 live, 0 erased" && stdout_has "2 wrapped under tree"'
usage "'member find' with neither --email nor --phone" member find
usage "'member show' without --purpose" member show "$MEMBER"
usage "'member find' with both --email and --phone" member find --email a@b --phone 0312345678
long_review=$(head -c 2001 /dev/zero | tr '\0' r)
usage "'exceptions close' with a review over 2000 bytes" exceptions close e1 --review "$long_review"
: >"$T/taken.cert"
run --data "$M" member erase "$MEMBER" --certificate "$T/taken.cert"
check "'member erase --certificate' onto an existing file: exit 1, says the member is erased" \
	eval 'status_is 1 && one_error_line && stderr_has "must not exist yet" && [ ! -s "$T/taken.cert" ]'
run --data "$M" keys status
check "... and the member is erased all the same" eval 'stdout_has "members: 1 live, 1 erased"'
run --data "$M" member erase "$MEMBER"
check "'member erase' a second time: exit 1, one line" eval 'status_is 1 && one_error_line'
run --data "$M" notify test --member "$MEMBER"
check "'notify test' for an erased member: exit 1, 'no member ... (erased)'" \
	eval 'status_is 1 && one_error_line && stderr_has "(erased)"'
run --data "$M" consent set "$MEMBER" --kind purpose --target product_news --granted yes
check "'consent set' for an erased member: exit 1, '(erased)'" \
	eval 'status_is 1 && one_error_line && stderr_has "(erased)"'

run --data "$M" complaints file "$MEMBER" --about other --text "Slow replies"
check "'complaints file' for an erased member: exit 1, '(erased)'" \
	eval 'status_is 1 && one_error_line && stderr_has "(erased)"'
run --data "$M" requests file "$MEMBER" --type erasure
check "'requests file' for an erased member: exit 1, '(erased)'" \
	eval 'status_is 1 && one_error_line && stderr_has "(erased)"'
PERC=$("$BIN" --data "$M" member find --email percival.ashgrove@example.org)
run --data "$M" complaints file "$PERC" --about other --text "Slow replies"
COMPLAINT=$(sed -n 's/^filed complaint \([^ ]*\) .*/\1/p' "$OUT")
check "'complaints file' for a live member files it" eval 'status_is 0 && [ -n "$COMPLAINT" ]'
run --data "$M" complaints respond "$COMPLAINT" --text $'bad\x01text'
check "'complaints respond' with a control character: exit 2, 'response refused'" \
	eval 'status_is 2 && one_error_line && stderr_has "response refused"'
run --data "$M" requests file "$PERC" --type disclosure
REQUEST=$(sed -n 's/^filed request \([^ ]*\) .*/\1/p' "$OUT")
check "'requests file' for a live member files it" eval 'status_is 0 && [ -n "$REQUEST" ]'
run --data "$M" requests decide "$REQUEST" --action reject --reasons $'bad\x01'
check "'requests decide' with reasons holding a control character: exit 2" \
	eval 'status_is 2 && one_error_line && stderr_has "decision refused"'
run --data "$M" requests decide "$REQUEST" --action refuse --ground nope --reasons "Because"
check "'requests decide' with an unknown ground names the three: exit 2" \
	eval 'status_is 2 && one_error_line && stderr_has "breach_of_law"'
run --data "$M" requests show "$REQUEST"
check "... and the request is still received" eval 'status_is 0 && stdout_has "received"'

run --data "$M" complaints list
check "'complaints list' lists the open complaint, nobody assigned" \
	eval 'status_is 0 && grep -q "^$COMPLAINT	$PERC	other	received	-	" "$OUT"'
run --data "$M" complaints list --overdue
check "'complaints list --overdue': none is overdue yet, the header only" \
	eval 'status_is 0 && [ "$(wc -l <"$OUT")" -eq 1 ]'
run --data "$M" complaints show nosuchcomplaint
check "'complaints show' of an unknown id: exit 1, no complaint" \
	eval 'status_is 1 && one_error_line && stderr_has "no complaint"'
run --data "$M" requests show nosuchrequest
check "'requests show' of an unknown id: exit 1, no request" \
	eval 'status_is 1 && one_error_line && stderr_has "no request"'
run --data "$M" requests file "$PERC" --type amendment --change nosuchfield=x --text "Typo"
check "'requests file' changing a field the policy has not: exit 2, unknown_field" \
	eval 'status_is 2 && one_error_line && stderr_has "unknown_field"'

# A retention rule: the plan lists each live member's notice as not yet due.
python3 - "$M/policy.json" "$T/retention-policy.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["version"] = "2099-01-01.1"
p["retention"] = {"inactive_accounts": {"notice_after_days": 30, "erase_after_notice_days": 10}}
json.dump(p, open(sys.argv[2], "w"))
PY
run --data "$M" policy publish "$T/retention-policy.json"
check "a policy with a retention rule is published" eval 'status_is 0'
run --data "$M" retention plan
check "'retention plan' lists the live member's notice as later, no value in it" \
	eval 'status_is 0 && grep -q "^later	.*	inactive_notice	" "$OUT" &&
	      stdout_has "0 due now, 1 later" && ! stdout_has "Wrenfeather" && ! stdout_has "Ashgrove"'
run --data "$M" retention run
check "'retention run' with nothing due: does nothing, counts one later" \
	eval 'status_is 0 && stdout_has "erased 0 member(s)" && stdout_has "1 item(s) later"'

"$BIN" --data "$M" member erase "$PERC" >/dev/null 2>&1
run --data "$M" complaints respond "$COMPLAINT" --text "Sorry"
check "'complaints respond' once the member is erased: exit 1, closed" \
	eval 'status_is 1 && one_error_line && stderr_has "closed"'

# The erasure certificate: verified with and without the data directory, refused altered.
C=$T/cert-data
"$BIN" --data "$C" init >/dev/null 2>&1
"$BIN" --data "$C" import "$T/two.csv" >/dev/null 2>&1
CM=$("$BIN" --data "$C" member find --email ophelia.wrenfeather@example.org)
run --data "$C" consent set "$CM" --kind purpose --target support --granted yes
check "'consent set' of a purpose members cannot choose: exit 2, not_choosable" \
	eval 'status_is 2 && one_error_line && stderr_has "not_choosable"'
run --data "$C" member erase "$CM" --certificate "$T/erasure.cert"
check "'member erase --certificate' writes the certificate" \
	eval 'status_is 0 && [ -s "$T/erasure.cert" ]'
run --data "$C" receipt verify "$T/erasure.cert"
check "'receipt verify' of the certificate with its data directory: signed by this custodian" \
	eval 'status_is 0 && stdout_has "certificate valid: erasure; signed by this custodian"'
run receipt verify "$T/erasure.cert"
check "'receipt verify' of the certificate without one: the signature checked, the key not" \
	eval 'status_is 0 && stdout_has "no data directory to check the key against"'
sed 's/"erased"/"erasex"/' "$T/erasure.cert" >"$T/altered.cert"
run --data "$C" receipt verify "$T/altered.cert"
check "'receipt verify' of an altered certificate: exit 1, it was altered" \
	eval 'status_is 1 && one_error_line && stderr_has "it was altered"'
run --data "$C" receipt verify "$T/two.csv"
check "'receipt verify' of a file that is neither: exit 1, not a receipt" \
	eval 'status_is 1 && one_error_line && stderr_has "not valid"'

# ---- progress on a terminal, rotation of every key --------------------------------

K=$T/keys
"$BIN" --data "$K" init >/dev/null 2>&1
"$BIN" --data "$K" import "$T/two.csv" >/dev/null 2>&1
if command -v script >/dev/null 2>&1; then
	# script(1) gives the command a terminal: progress is drawn there, never into a pipe.
	script -qec "'$BIN' --data '$K' keys rotate" /dev/null </dev/null >"$OUT" 2>&1
	rc=$?
	check "'keys rotate' on a terminal: all three keys, progress drawn to 100%" \
		eval 'status_is 0 && stdout_has "rewrapping   100%  2/2 members" &&
		      stdout_has "reindexing   100%" && stdout_has "a new backup key is current" &&
		      stdout_has "restart custodian serve"'
	script -qec "'$BIN' --data '$K' backup --to '$T/tty.cubackup'" /dev/null </dev/null >"$OUT" 2>&1
	rc=$?
	check "'backup' on a terminal draws its bar" \
		eval 'status_is 0 && stdout_has "100%" && stdout_has "backup written"'
else
	"$BIN" --data "$K" keys rotate >"$OUT" 2>"$ERR"
	rc=$?
	check "'keys rotate': all three keys" eval 'status_is 0 && ! grep -q "%" "$ERR"'
fi
run --data "$K" keys rotate
check "'keys rotate' into a pipe: no progress drawn" \
	eval 'status_is 0 && ! grep -q "100%" "$ERR" && ! grep -q "100%" "$OUT"'
run --data "$K" keys status
check "'keys status' after rotations: several master keys, the last current, old trees listed" \
	eval 'status_is 0 && grep -q "^master keys: 1 [0-9]* [0-9]* (current)$" "$OUT" &&
	      [ "$(grep -c "^  tree " "$OUT")" -ge 3 ] && stdout_has "2 wrapped under tree key"'
printf '\n[notify]\nmode = off\n' >>"$K/custodian.conf"
run --data "$K" notify deliver
check "'notify deliver' with notify.mode off says nothing is sent" \
	eval 'status_is 0 && stdout_has "notify.mode is off: nothing is sent"'

# ---- a full disk where the command writes its file -----------------------------------

# The shim fails every write under $FULL while $T/full exists; the data directory is
# elsewhere, so the command opens it and fails at its own file.
FULL=$T/fulldisk
mkdir -p "$FULL"
run_full() {
	: >"$T/full"
	# Under the sanitizers the shim loads before their runtime: tell it that is meant.
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 LD_PRELOAD=$SHIM \
		CU_FAULT_DIR=$FULL CU_FAULT_CONTROL=$T/full "$BIN" --data "$D" "$@" >"$OUT" 2>"$ERR"
	rc=$?
	rm -f "$T/full"
}
if [ -f "$SHIM" ]; then
	before=$(audit_count "$D")
	run_full backup --to "$FULL/b.cubackup"
	check "'backup' onto a full disk: exit 1, one line, no backup or partial file left" \
		eval 'status_is 1 && one_error_line && stderr_has "backup failed" &&
		      [ -z "$(ls -A "$FULL")" ]'
	check "... and no backup was audited" eval '[ "$(audit_count "$D")" = "$before" ]'
	run_full audit checkpoint --out "$FULL/audit.ck"
	check "'audit checkpoint --out' onto a full disk: exit 1, one line naming the file" \
		eval 'status_is 1 && one_error_line && stderr_has "$FULL/audit.ck"'
	"$BIN" --data "$D" backup --to "$T/good.cubackup" >/dev/null 2>&1
	run_full restore "$T/good.cubackup" --into "$FULL/restored"
	check "'restore' onto a full disk: exit 1, one line, refused" \
		eval 'status_is 1 && one_error_line && stderr_has "refused"'
	run --data "$D" backup verify "$T/good.cubackup"
	check "... the backup itself is intact" eval 'status_is 0 && stdout_has "backup intact"'
else
	echo "# no fault shim at $SHIM: the full-disk checks are skipped"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
