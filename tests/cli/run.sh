#!/bin/bash
# tests/cli/run.sh — drives the custodian binary as an operator would.
#
#   tests/cli/run.sh path/to/custodian        (CU_SOURCE_DIR = the source tree)
#
# Prints one "ok N - ..." or "not ok N - ..." line per check, then
# "N passed, M failed"; exits non-zero if any check failed.
#
# Checks are strings that check() evals later, so single quotes are meant.
# shellcheck disable=SC2016,SC2034
set -u

BIN=${1:-}
if [ -z "$BIN" ] || [ ! -x "$BIN" ]; then
	echo "usage: $0 path/to/custodian" >&2
	exit 2
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
SRC=${CU_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TAP=$(cd "$(dirname "$0")" && pwd)/tap.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/cu-cli-XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
# The environment must not choose the data directory behind our back.
unset CUSTODIAN_DATA
cd "$T" || exit 2

OUT=$T/stdout
ERR=$T/stderr
# shellcheck source=tests/cli/tap.sh
. "$TAP"

# ---- helpers -----------------------------------------------------------

# Runs the binary with a data directory from the environment.
run_env() {
	local dir=$1
	shift
	CUSTODIAN_DATA=$dir "$BIN" "$@" >"$OUT" 2>"$ERR"
	rc=$?
}

status_not() { [ "$rc" -ne "$1" ]; }
stdout_is() { [ "$(cat "$OUT")" = "$1" ]; }
# None of the given values occurs in the file.
file_lacks_all() {
	local file=$1 v
	shift
	for v in "$@"; do
		if grep -q -a -F -- "$v" "$file"; then
			echo "#   '$file' holds a personal value" >&2
			return 1
		fi
	done
	return 0
}
# grep -c over a binary file: no line (no byte run) holds the value.
bytes_absent() {
	local file=$1 v count
	shift
	[ -e "$file" ] || return 0
	for v in "$@"; do
		count=$(grep -c -a -F -- "$v" "$file")
		[ "$count" -eq 0 ] || return 1
	done
	return 0
}
# python3 expression over the JSON on stdout, bound to d.
json_ok() {
	python3 -c "import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if ($1) else 1)" "$OUT" 2>/dev/null
}

# ---- help and usage ----------------------------------------------------

run --help
check "--help exits 0 with usage on stdout" eval 'status_is 0 && stdout_has "usage:"'
run --version
check "--version exits 0" status_is 0

for cmd in init import member "member find" "member show" "member erase" audit \
	"audit verify" "audit checkpoint" policy "policy check" config token "token create" "token list" \
	"token revoke" notify "notify deliver" "notify test" third-party "third-party add" \
	"third-party list" subcontractor "subcontractor add" "subcontractor list" provisions \
	"provisions purge" requests "requests list" "requests show" "requests decide" \
	"requests file" complaints "complaints list" "complaints show" "complaints respond" \
	"complaints file" exceptions "exceptions list" "exceptions close" consent \
	"consent set"; do
	# shellcheck disable=SC2086 # the subcommand is meant to split
	run $cmd --help
	check "'$cmd --help' exits 0 and describes it" eval 'status_is 0 && stdout_has "custodian"'
done

# Every command that does something (not a group): its --help comes from its option table, and an
# unknown option is one line on stderr and exit 2, before anything is opened or written.
LEAVES=(init import "member find" "member show" "member erase" "token create" "token list"
	"token revoke" "third-party add" "third-party list" "subcontractor add" "subcontractor list"
	"provisions purge" "requests list" "requests show" "requests decide" "requests file"
	"complaints list" "complaints show" "complaints respond" "complaints file" "exceptions list"
	"exceptions close" "consent set" "audit verify" "audit checkpoint" "notify deliver"
	"notify test" "policy check" "policy publish" "policy versions" "receipt verify" serve config)
# The list above is every subcommand the groups name ('custodian GROUP' lists them).
for group in member token third-party subcontractor provisions requests complaints exceptions \
	consent audit notify policy receipt; do
	run "$group"
	subs=$(sed -n "s/^  custodian \(\[--data DIR\] \)\{0,1\}$group \([a-z-]*\).*/\2/p" "$ERR")
	missing=""
	for sub in $subs; do
		case " ${LEAVES[*]} " in *" $group $sub "*) ;; *) missing="$missing $group $sub" ;; esac
	done
	check "'custodian $group' names subcommands, all of them tested here" \
		eval 'status_is 2 && [ -n "$subs" ] && [ -z "$missing" ]'
done
for cmd in "${LEAVES[@]}"; do
	# shellcheck disable=SC2086 # the subcommand is meant to split
	run $cmd --help
	check "'$cmd --help' exits 0 with its usage line" \
		eval 'status_is 0 && stdout_has "usage: custodian" && stdout_has "$cmd" && [ ! -s "$ERR" ]'
	# shellcheck disable=SC2086
	run --data "$T/never-made" $cmd --no-such-option
	check "'$cmd --no-such-option': one line, exit 2, nothing done" \
		eval 'status_is 2 && one_error_line && [ ! -s "$OUT" ] && [ ! -e "$T/never-made" ]'
done
run token create --help
check "'token create --help' lists its options from the table" \
	eval 'stdout_has "options:" && stdout_has "--expires YYYY-MM-DD" && stdout_has "--contract ID"'
run token create --role staff --name
check "an option missing its value: one line naming it, exit 2" \
	eval 'status_is 2 && one_error_line && stderr_has "'"'"'--name'"'"'"'
run --no-such-option
check "an unknown global option: one line, exit 2" eval 'status_is 2 && one_error_line'

# The settings table prints itself: every setting with its type, default and reloadability.
run config --help
check "'config --help' prints the settings table" \
	eval 'status_is 0 && stdout_has "custodian.mode (string; default development; not reloadable)" &&
	stdout_has "server.threads (integer, 1..64; default 4; not reloadable)"'
keys=$("$BIN" config --markdown | sed -n 's/^| \([a-z_]*\.[a-z_]*\) |.*/\1/p')
missing=""
for key in $keys; do grep -q -F -- "  $key (" "$OUT" || missing="$missing $key"; done
check "'config --help' names every setting of the table (and there are some)" \
	eval '[ "$(printf "%s\n" $keys | wc -l)" -ge 20 ] && [ -z "$missing" ]'
run config
check "'config' alone prints the same table" \
	eval 'status_is 0 && stdout_has "requests.target_days (integer, 1..365; default 14"'
run config --markdown
check "'config --markdown' is docs/configuration.md, byte for byte" \
	eval 'status_is 0 && cmp -s "$OUT" "$SRC/docs/configuration.md"'
cp "$SRC/docs/configuration.md" "$T/configuration.md"
printf '| custodian.extra | string | x | no | a row nobody generated |\n' >>"$T/configuration.md"
check "the docs check fails on a configuration.md the table did not generate" \
	eval '! "$SRC/tests/cli/config_doc.sh" "$BIN" "$T/configuration.md" >/dev/null 2>&1'
check "... and passes on the committed one" \
	eval '"$SRC/tests/cli/config_doc.sh" "$BIN" "$SRC/docs/configuration.md" >/dev/null 2>&1'

# `custodian help`: the usage, one command's help, or custodian(1) from the same tables.
run help
check "'help' prints the usage of every command" \
	eval 'status_is 0 && stdout_has "custodian [--data DIR] serve" && stdout_has "custodian help"'
run help member show
check "'help member show' is 'member show --help'" \
	eval 'status_is 0 && stdout_has "usage: custodian member show" && stdout_has "--purpose"'
run help member nope
check "'help member nope': exit 2, one line naming it" \
	eval 'status_is 2 && one_error_line && stderr_has "nope"'
run help --man
check "'help --man' writes troff naming every command and setting" \
	eval 'status_is 0 && stdout_has ".TH CUSTODIAN 1" && stdout_has ".SS \"member show\"" &&
	stdout_has ".B server.listen" && stdout_has "CUSTODIAN_SERVER_LISTEN"'
run help --man serve
check "'help --man serve': a usage error" eval 'status_is 2 && one_error_line'
check "the man check fails on a page the tables did not generate" \
	eval 'printf ".SH EXTRA\n" | cat "$SRC/man/custodian.1" - >"$T/custodian.1" &&
	! "$SRC/tests/cli/man_doc.sh" "$BIN" "$T/custodian.1" >/dev/null 2>&1'

run frobnicate
check "unknown command exits 2" status_is 2
check "unknown command: one line on stderr starting 'custodian: '" one_error_line
check "unknown command prints nothing on stdout" eval '[ ! -s "$OUT" ]'
run member frobnicate
check "unknown member subcommand exits 2 with one line" eval 'status_is 2 && one_error_line'
run --bogus-option
check "unknown option exits 2 with one line" eval 'status_is 2 && one_error_line'
run member find --email
check "member find without a value is a usage error" eval 'status_is 2 && one_error_line'

# ---- init --------------------------------------------------------------

D=$T/data
run --data "$D" init
check "init exits 0" status_is 0
check "init creates DIR" test -d "$D"
check "master.key has mode 0600" eval '[ "$(stat -c %a "$D/master.key" 2>/dev/null)" = 600 ]'
check "backup.key has mode 0600 and is not master.key" \
	eval '[ "$(stat -c %a "$D/backup.key" 2>/dev/null)" = 600 ] && ! cmp -s "$D/backup.key" "$D/master.key"'
check "DIR has mode 0700" eval '[ "$(stat -c %a "$D" 2>/dev/null)" = 700 ]'
check "init writes custodian.conf, policy.json, custodian.db" \
	eval '[ -f "$D/custodian.conf" ] && [ -f "$D/policy.json" ] && [ -f "$D/custodian.db" ]'
key_sum=$(sha256sum "$D/master.key")
run --data "$D" init
check "second init is refused (non-zero)" status_not 0
check "second init: one line on stderr" one_error_line
check "second init leaves master.key untouched" eval '[ "$(sha256sum "$D/master.key")" = "$key_sum" ]'

run --data "$T/nowhere" member find --email a@example.com
check "a command on a missing DIR fails with one line pointing at init" \
	eval 'status_is 1 && one_error_line && stderr_has init'

# ---- import ------------------------------------------------------------

# Distinctive values: none may reach stderr or the database files.
GOOD_VALUES=(
	"Zebulon Quimbyfrost" "88 Marigold Terrace" "Zebulon.Quimbyfrost@Example.ORG"
	"zebulon.quimbyfrost@example.org" "+81 90 1234 5678" "+819012345678" "Luthiermaker"
	"Wilhelmina Ostergaard" "3-1 Kasumigaseki" "wilhelmina.ostergaard@example.net"
	"03-5555-0101" "Cartographerix"
	"Ulrich Vantongeren" "9 Pewter Row" "ulrich.vantongeren@example.com" "+44 20 7946 0958"
)
BAD_VALUES=(
	"Yolanda Brackenridge" "5 Quince Close" "yolanda.at.example.org" "090-2468-1357"
	"Xavier Thistlewood" "7 Juniper Way" "xavier.thistlewood@example.com" "Falconerist"
)
MORE_VALUES=(
	"Theodora Pemberwick" "4 Saffron Yard" "theodora.pemberwick@example.com" "06-6123-4567"
	"Severin Oakenshaw" "12 Birch Parade" "severin.oakenshaw@example.com" "+1 415 555 0100"
)

# Header, then: good (2), bad e-mail (3), good with a quoted newline (4-5),
# bad phone (6), good with an empty optional column (7).
cat >"$T/members.csv" <<'EOF'
name,address,phone,email,occupation
Zebulon Quimbyfrost,"88 Marigold Terrace, Sapporo",+81 90 1234 5678,Zebulon.Quimbyfrost@Example.ORG,Luthiermaker
Yolanda Brackenridge,5 Quince Close,090-2468-1357,yolanda.at.example.org,Falconerist
Wilhelmina Ostergaard,"3-1 Kasumigaseki
Chiyoda, Tokyo",03-5555-0101,wilhelmina.ostergaard@example.net,Cartographerix
Xavier Thistlewood,7 Juniper Way,12-34,xavier.thistlewood@example.com,Falconerist
Ulrich Vantongeren,9 Pewter Row,+44 20 7946 0958,ulrich.vantongeren@example.com,
EOF

run --data "$D" import "$T/members.csv"
check "import with 3 good and 2 bad rows prints 'imported 3, rejected 2'" \
	stdout_is "imported 3, rejected 2"
check "import with rejected rows exits 1" status_is 1
check "import names line 3 and its field 'email'" \
	eval 'grep -q "line 3.*email" "$ERR"'
check "import names line 6 and its field 'phone'" \
	eval 'grep -q "line 6.*phone" "$ERR"'
check "import reports exactly the two rejected rows" eval '[ "$(grep -c "^line " "$ERR")" -eq 2 ]'
check "import's stderr holds none of the values" \
	file_lacks_all "$ERR" "${GOOD_VALUES[@]}" "${BAD_VALUES[@]}" Sapporo Chiyoda

cat >"$T/more.csv" <<'EOF'
email,name,phone,address
theodora.pemberwick@example.com,Theodora Pemberwick,06-6123-4567,4 Saffron Yard
severin.oakenshaw@example.com,Severin Oakenshaw,+1 415 555 0100,12 Birch Parade
EOF
# A reader holds the database open meanwhile, so the write-ahead log the
# import writes stays on disk to be searched.
mkfifo "$T/hold"
python3 - "$D/custodian.db" "$T/hold" "$T/ready" <<'PY' &
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("SELECT count(*) FROM meta").fetchone()
open(sys.argv[3], "w").close()
open(sys.argv[2]).read()
db.close()
PY
holder=$!
for _ in $(seq 100); do [ -e "$T/ready" ] && break; sleep 0.1; done
run --data "$D" import "$T/more.csv"
check "import of an all-good file exits 0" status_is 0
check "import of an all-good file prints 'imported 2, rejected 0'" \
	stdout_is "imported 2, rejected 0"
check "with a reader holding the store, the import left a write-ahead log" \
	test -s "$D/custodian.db-wal"
check "no personal value in custodian.db-wal (grep -c)" \
	bytes_absent "$D/custodian.db-wal" "${MORE_VALUES[@]}" "${GOOD_VALUES[@]}" \
	"theodora.pemberwick" "+14155550100" "+81661234567"
check "... and that log holds the new rows (audit text found in it)" \
	eval '! bytes_absent "$D/custodian.db-wal" registered'
# Release the reader; never hang if it already died.
timeout 10 sh -c ': >"$1"' sh "$T/hold"
wait "$holder"

cat >"$T/more.jsonl" <<'EOF'
{"name": "Rosalind Fairweather", "address": "2 Elm Close", "phone": "080-9876-5432", "email": "rosalind.fairweather@example.com", "age": 41}
{"name": "Quentin Bad", "address": "3 Elm Close", "phone": "080-9876-5433", "email": "quentin.bad@example.com", "age": "old"}
EOF
run --data "$D" import "$T/more.jsonl"
check "import of JSON Lines: 'imported 1, rejected 1', exit 1, line 2 field age" \
	eval 'stdout_is "imported 1, rejected 1" && status_is 1 && grep -q "line 2.*age" "$ERR"'

run --data "$D" import "$T/no-such-file.csv"
check "import of a missing file fails with one line" eval 'status_is 1 && one_error_line'

printf 'name,address,phone,email,shoe_size\nA B,1 C St,090-1111-2222,ab@example.com,44\n' \
	>"$T/unknown-column.csv"
run --data "$D" import "$T/unknown-column.csv"
check "import with an unknown column fails and imports nothing" \
	eval 'status_is 1 && stdout_is "imported 0, rejected 0" && one_error_line'

# ---- member find -------------------------------------------------------

run --data "$D" member find --email zebulon.QUIMBYFROST@example.org
ID=$(tr -d '\n' <"$OUT")
check "find --email (mixed case) exits 0 and prints an id" \
	eval 'status_is 0 && [ -n "$ID" ] && [ "$(wc -l <"$OUT")" -eq 1 ]'
check "the id is not personal data" \
	eval 'file_lacks_all "$OUT" "${GOOD_VALUES[@]}"'

run --data "$D" member find --phone 090-1234-5678
check "find --phone 090-1234-5678 finds the member registered as +81 90 1234 5678" \
	eval 'status_is 0 && stdout_is "$ID"'

run --data "$D" member find --email nobody.here@example.com
check "find of an unknown e-mail exits 1 with one line" eval 'status_is 1 && one_error_line'
check "find's message does not echo the e-mail" eval '! stderr_has nobody.here'

run --data "$D" member find --email yolanda.at.example.org
check "find of a malformed e-mail is refused without echoing it" \
	eval 'status_not 0 && one_error_line && ! stderr_has yolanda'
run --data "$D" member find --email xavier.thistlewood@example.com
check "a rejected row was not stored (find exits 1)" status_is 1

run --data "$D" member find --email ulrich.vantongeren@example.com
ULRICH=$(tr -d '\n' <"$OUT")
check "find the member to erase later" eval 'status_is 0 && [ -n "$ULRICH" ]'

# ---- member show -------------------------------------------------------

run --data "$D" member show "$ID" --purpose support
check "show --purpose support exits 0" status_is 0
check "show prints JSON with 'fields' and 'withheld'" \
	json_ok '"fields" in d and "withheld" in d and d["member"] == "'"$ID"'"'
check "support sees name, phone and e-mail as registered" \
	json_ok 'd["fields"].get("name") == "Zebulon Quimbyfrost" and d["fields"].get("email") == "Zebulon.Quimbyfrost@Example.ORG" and d["fields"].get("phone") == "+81 90 1234 5678"'
check "support does not see the address; it is named as withheld" \
	json_ok '"address" not in d["fields"] and "address" in d["withheld"]'

run --data "$D" member show "$ID" --purpose analysis
check "show --purpose analysis exits 0" status_is 0
check "analysis shows no name, e-mail, phone or address" \
	json_ok 'not ({"name", "email", "phone", "address"} & set(d["fields"])) and {"name", "email", "phone", "address"} <= set(d["withheld"])'
check "analysis shows the occupation" json_ok 'd["fields"].get("occupation") == "Luthiermaker"'
check "analysis output holds no identifying value" \
	file_lacks_all "$OUT" "Zebulon" "Quimbyfrost" "Marigold" "+81 90"

run --data "$D" member show "$ID" --purpose no_such_purpose
check "show with an unknown purpose is refused with one line" \
	eval 'status_not 0 && one_error_line && [ ! -s "$OUT" ]'
run --data "$D" member show "$ID"
check "show without --purpose is a usage error" eval 'status_is 2 && one_error_line'
run --data "$D" member show "$ID" --purpose tos_review
check "a purpose that needs a case is refused without --case" \
	eval 'status_not 0 && one_error_line && [ ! -s "$OUT" ]'
run --data "$D" member show "$ID" --purpose tos_review --case CASE-17
check "... and allowed with --case" json_ok '"name" in d["fields"]'
run --data "$D" member show "$ID" --purpose materials
check "an aggregate-only purpose never shows one member" \
	eval 'status_not 0 && one_error_line && [ ! -s "$OUT" ]'
run --data "$D" member show no-such-member-id --purpose support
check "show of an unknown member exits 1 with one line" eval 'status_is 1 && one_error_line'
# Base64url ids may begin with '-': such an argument is an id, not an option, wherever it stands.
run --data "$D" member show --purpose support -no-such-member-id
check "an id beginning with '-' is an id (exit 1, no member), not a usage error" \
	eval 'status_is 1 && one_error_line && stderr_has "no member"'
# ... and one in 4096 begins with '--': a word of an id's form is an id, not an unknown option.
run --data "$D" member show --purpose support --AAAAAAAAAAAAAAAAAAAA
check "an id beginning with '--' is an id (exit 1, no member), not a usage error" \
	eval 'status_is 1 && one_error_line && stderr_has "no member"'
run --data "$D" member erase --AAAAAAAAAAAAAAAAAAAA
check "... for member erase too" eval 'status_is 1 && one_error_line && stderr_has "no member"'
# Options are whole names: no abbreviation, no --name=value.
run --data "$D" member show "$ID" --purp support
check "an abbreviated option is a usage error" eval 'status_is 2 && one_error_line'
run --data "$D" member show "$ID" --purpose=support
check "--name=value is a usage error" eval 'status_is 2 && one_error_line'

# A case reference that is blank or not one line is refused before anything is written.
audit_rows() {
	python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("select count(*) from audit").fetchone()[0])' "$D/custodian.db"
}
before=$(audit_rows)
for bad_case in " " "$(printf '\t')" "$(printf 'CASE-17\nX')" "$(printf '\343\200\200')"; do
	run --data "$D" member show "$ID" --purpose tos_review --case "$bad_case"
	check "--case '$(printf '%s' "$bad_case" | od -An -c | tr -s ' ')' is a usage error, one line" \
		eval 'status_is 2 && one_error_line && stderr_has "--case" && [ ! -s "$OUT" ]'
done
check "... and none of them wrote an audit entry" eval '[ "$(audit_rows)" = "$before" ]'

# What is typed where an id or a purpose goes is neither echoed nor audited as typed.
run --data "$D" member show someone.idleak@example.com --purpose support
check "show of an e-mail for an id: exit 1, one line, not echoed" \
	eval 'status_is 1 && one_error_line && ! stderr_has idleak'
run --data "$D" member show "$ID" --purpose someone.idleak@example.com
check "show with an e-mail for a purpose: refused, not echoed" \
	eval 'status_not 0 && one_error_line && ! stderr_has idleak'
check "the audit holds no typed e-mail (recorded as malformed)" \
	python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute("select * from audit").fetchall()
assert not any("idleak" in str(v) for r in rows for v in r)
assert any("(malformed)" in r for r in rows)' "$D/custodian.db"

# ---- CUSTODIAN_DATA ----------------------------------------------------

run_env "$D" member find --email theodora.pemberwick@example.com
check "CUSTODIAN_DATA selects the data directory" eval 'status_is 0 && [ -s "$OUT" ]'
run_env "$T/env-data" init
check "init honours CUSTODIAN_DATA" eval 'status_is 0 && [ -f "$T/env-data/master.key" ]'
run_env "$T/env-data" member find --email theodora.pemberwick@example.com
check "... and that directory is a different store (not found there)" status_is 1
run_env "$T/env-data" --data "$D" member find --email theodora.pemberwick@example.com
check "--data overrides CUSTODIAN_DATA" status_is 0

# ---- erase -------------------------------------------------------------

run --data "$D" member erase "$ULRICH"
check "member erase exits 0" status_is 0
run --data "$D" member show "$ULRICH" --purpose support
check "show of an erased member fails with one line" \
	eval 'status_not 0 && one_error_line && [ ! -s "$OUT" ]'
run --data "$D" member find --email ulrich.vantongeren@example.com
check "find of an erased member exits 1" status_is 1
run --data "$D" member find --phone "+44 20 7946 0958"
check "find by phone of an erased member exits 1" status_is 1
run --data "$D" member erase "$ULRICH"
check "erasing twice fails with one line" eval 'status_not 0 && one_error_line'

# ---- no plaintext on disk ----------------------------------------------

check "no personal value in custodian.db" \
	bytes_absent "$D/custodian.db" "${GOOD_VALUES[@]}" "${BAD_VALUES[@]}" "${MORE_VALUES[@]}" \
	"Rosalind Fairweather" "rosalind.fairweather@example.com" "Quentin Bad"
check "no personal value in custodian.db-wal (if present)" \
	bytes_absent "$D/custodian.db-wal" "${GOOD_VALUES[@]}" "${BAD_VALUES[@]}" \
	"${MORE_VALUES[@]}" "Rosalind Fairweather" "rosalind.fairweather@example.com"
check "the same search does find what the store holds in clear (a member id)" \
	eval '! bytes_absent "$D/custodian.db" "$ID"'

# ---- tokens ------------------------------------------------------------

run token create --help
check "'token create --help' describes create, not the group" \
	eval 'status_is 0 && stdout_has "--role R --name N"'

run --data "$D" token list
check "token list after init: the first officer's token only" \
	eval 'status_is 0 && [ "$(wc -l <"$OUT")" -eq 2 ] && grep -q "	officer	first officer	" "$OUT"'

run --data "$D" token create --role staff --name "Support desk"
check "token create exits 0" status_is 0
SECRET=$(sed -n 's/^secret: //p' "$OUT")
TOKEN_ID=$(sed -n 's/^created token \([A-Za-z0-9_-]*\):.*/\1/p' "$OUT")
check "token create prints a secret 'cu_' + 43 base64url characters" \
	eval '[[ "$SECRET" =~ ^cu_[A-Za-z0-9_-]{43}$ ]]'
check "token create prints the token's id" eval '[[ "$TOKEN_ID" =~ ^[A-Za-z0-9_-]{22}$ ]]'
check "the secret is printed exactly once" \
	eval '[ "$(grep -o -F -- "$SECRET" "$OUT" | wc -l)" -eq 1 ]'
check "token create says the secret is not stored" stdout_has "not stored"
check "token create prints nothing on stderr" eval '[ ! -s "$ERR" ]'

run --data "$D" token create --role subcontractor --name "Mailing house" --expires 2999-01-01
SECRET2=$(sed -n 's/^secret: //p' "$OUT")
TOKEN2=$(sed -n 's/^created token \([A-Za-z0-9_-]*\):.*/\1/p' "$OUT")
check "token create --expires exits 0 and names the expiry" \
	eval 'status_is 0 && stdout_has "2999-01-01T00:00:00Z" && [ -n "$SECRET2" ]'

run --data "$D" token list
check "token list exits 0 with a header and one line per token" \
	eval 'status_is 0 && [ "$(wc -l <"$OUT")" -eq 4 ] && head -n 1 "$OUT" | grep -q "^ID	ROLE	NAME	CREATED	EXPIRES	STATUS$"'
check "token list shows id, role, name, expiry never and status active" \
	eval 'grep -q "^$TOKEN_ID	staff	Support desk	[0-9T:Z-]*	never	active$" "$OUT"'
check "token list shows the expiry date" \
	eval 'grep -q "^$TOKEN2	subcontractor	Mailing house	.*	2999-01-01T00:00:00Z	active$" "$OUT"'
check "token list never shows a secret" \
	eval '! stdout_has "$SECRET" && ! stdout_has "${SECRET#cu_}" && ! stdout_has "$SECRET2" && ! stdout_has "cu_"'
check "no token secret in custodian.db or its log" \
	bytes_absent "$D/custodian.db" "${SECRET#cu_}" "${SECRET2#cu_}"
check "... nor in custodian.db-wal" \
	bytes_absent "$D/custodian.db-wal" "${SECRET#cu_}" "${SECRET2#cu_}"
check "the same search finds the token's id (the row is there)" \
	eval '! bytes_absent "$D/custodian.db" "$TOKEN_ID" || ! bytes_absent "$D/custodian.db-wal" "$TOKEN_ID"'

for bad in member operator boss; do
	run --data "$D" token create --role "$bad" --name "Someone"
	check "token create --role $bad is a usage error with one line" \
		eval 'status_is 2 && one_error_line && [ ! -s "$OUT" ]'
done
run --data "$D" token create --role staff
check "token create without --name is a usage error" eval 'status_is 2 && one_error_line'
run --data "$D" token create --role staff --name "$(printf 'Tab\there')"
check "a name with a control character is refused without echoing it" \
	eval 'status_is 2 && one_error_line && ! stderr_has "Tab"'
run --data "$D" token create --role staff --name "$(printf 'x%.0s' $(seq 65))"
check "a name of 65 characters is refused" eval 'status_is 2 && one_error_line'
run --data "$D" token create --role staff --name "Late" --expires 2001-01-01
check "an expiry in the past is refused" eval 'status_is 2 && one_error_line'
run --data "$D" token create --role staff --name "Late" --expires 2030-02-30
check "an expiry that is no date is refused" eval 'status_is 2 && one_error_line'
run --data "$D" token list
check "refused creations stored nothing" eval '[ "$(wc -l <"$OUT")" -eq 4 ]'

run --data "$D" token revoke "$TOKEN_ID"
check "token revoke exits 0" eval 'status_is 0 && stdout_has "$TOKEN_ID"'
run --data "$D" token list
check "a revoked token is listed as revoked" \
	eval 'grep -q "^$TOKEN_ID	.*	revoked$" "$OUT" && grep -q "^$TOKEN2	.*	active$" "$OUT"'
run --data "$D" token revoke "$TOKEN_ID"
check "revoking twice exits 0 and says so" eval 'status_is 0 && stdout_has "already revoked"'
run --data "$D" token revoke no-such-token
check "revoking an unknown token exits 1 with one line" eval 'status_is 1 && one_error_line'
run --data "$D" token revoke
check "token revoke without an id is a usage error" eval 'status_is 2 && one_error_line'
run --data "$D" token frobnicate
check "an unknown token subcommand exits 2" eval 'status_is 2 && one_error_line'

# ---- audit -------------------------------------------------------------

run --data "$D" audit verify
check "audit verify exits 0 on an intact chain" status_is 0
check "audit verify prints 'audit intact: N entries checked'" \
	eval 'grep -qE "^audit intact: [0-9]+ entries checked$" "$OUT"'
entries=$(sed -n 's/^audit intact: \([0-9]*\) entries checked$/\1/p' "$OUT")
rows=$(python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("select count(*) from audit").fetchone()[0])' "$D/custodian.db")
check "audit verify checked every entry ($rows)" eval '[ "${entries:-x}" = "$rows" ]'

# Tamper like an intruder with the database file: drop the guards, edit a row.
TAMPER_SEQ=4
python3 - "$D/custodian.db" "$TAMPER_SEQ" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DROP TRIGGER IF EXISTS audit_no_update")
db.execute("DROP TRIGGER IF EXISTS audit_no_delete")
db.execute("UPDATE audit SET reason = 'nothing to see here' WHERE seq = ?", (int(sys.argv[2]),))
db.commit()
db.close()
EOF
check "tampering script ran" test $? -eq 0
run --data "$D" audit verify
check "audit verify exits 1 after a row was edited" status_is 1
check "audit verify names the edited entry" eval 'one_error_line && stderr_has "entry $TAMPER_SEQ"'

# ---- audit checkpoints: a cut log with its head rewritten ----------------

K=$T/ckpt
CKLINE='^cu-audit-checkpoint-v1 seq=[0-9]+ head=[0-9a-f]{64} time=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z key=[0-9]+ sig=[0-9a-f]{128}$'
ckseq() { sed -n 's/^cu-audit-checkpoint-v1 seq=\([0-9]*\) .*/\1/p' "$1"; }
dbmax() {
	python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("select coalesce(max(seq), 0) from audit").fetchone()[0])' "$K/custodian.db"
}
run --data "$K" init
check "init leaves a signed checkpoint file next to the database" \
	eval 'status_is 0 && grep -qE "$CKLINE" "$K/audit.checkpoint" && [ "$(wc -l <"$K/audit.checkpoint")" -eq 1 ]'
check "... covering the whole log" eval '[ "$(ckseq "$K/audit.checkpoint")" = "$(dbmax)" ]'
check "... mode 0600" eval '[ "$(stat -c %a "$K/audit.checkpoint")" = 600 ]'
run --data "$K" import "$T/members.csv"
for _ in 1 2 3; do run --data "$K" member find --email ulrich.vantongeren@example.com; done
check "a command that appended entries moves the checkpoint to the new head" \
	eval '[ "$(ckseq "$K/audit.checkpoint")" = "$(dbmax)" ]'
run --data "$K" audit verify
check "audit verify reports the checkpoints" \
	eval 'status_is 0 && grep -qE "^checkpoints: [0-9]+ checked, all good; the newest covers entry $(dbmax) " "$OUT"'
run --data "$K" audit checkpoint
check "audit checkpoint prints a signed checkpoint line" \
	eval 'status_is 0 && grep -qE "$CKLINE" "$OUT" && [ "$(wc -l <"$OUT")" -eq 1 ]'
run --data "$K" audit checkpoint --out "$T/shipped.ck"
SHIPPED=$(dbmax)
check "audit checkpoint --out FILE writes it there" \
	eval 'status_is 0 && stdout_has "checkpoint of entry $SHIPPED written" && grep -qE "$CKLINE" "$T/shipped.ck"'
run --data "$K" audit checkpoint --out
check "audit checkpoint --out without a file is a usage error" eval 'status_is 2 && one_error_line'
run --data "$K" audit verify --checkpoint "$T/no-such.ck"
check "audit verify --checkpoint of a missing file fails, naming it" \
	eval 'status_is 1 && stderr_has "no-such.ck" && stderr_has "cannot read"'
for _ in 1 2 3 4; do run --data "$K" member find --email ulrich.vantongeren@example.com; done
SIGNED=$(ckseq "$K/audit.checkpoint")
CUT=$((SHIPPED - 2))
cp -a "$K" "$T/ckpt-before"
# The intruder: drop the guards, cut the last rows, rewrite the head in meta to match.
python3 - "$K/custodian.db" "$CUT" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
keep = int(sys.argv[2])
db.execute("DROP TRIGGER IF EXISTS audit_no_delete")
db.execute("DELETE FROM audit WHERE seq > ?", (keep,))
h = db.execute("SELECT hash FROM audit WHERE seq = ?", (keep,)).fetchone()[0]
db.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", (f"{keep}:{h.hex()}",))
db.commit()
PY
check "cutting script ran" test $? -eq 0
run --data "$K" audit verify
check "audit verify fails on a cut log whose head was rewritten" status_is 1
check "... naming the missing range from the checkpoint file" \
	eval 'stderr_has "entries $((CUT + 1))-$SIGNED missing: the log ends at $CUT but the checkpoint signed at" && stderr_has "audit.checkpoint"'
check "... and from the checkpoints in the database" \
	eval 'stderr_has "audit checkpoints in the database:"'
check "... without a word of personal data" \
	file_lacks_all "$ERR" "Ulrich" "ulrich.vantongeren@example.com" "Vantongeren"
# The intruder also cleans the checkpoint table and deletes the file.
python3 - "$K/custodian.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DROP TRIGGER IF EXISTS audit_checkpoints_no_delete")
db.execute("DELETE FROM audit_checkpoints WHERE seq > (SELECT max(seq) FROM audit)")
db.commit()
PY
rm -f "$K/audit.checkpoint"
run --data "$K" audit verify
check "a deleted checkpoint file is named" \
	eval 'status_is 1 && stderr_has "no checkpoint file next to the database"'
run --data "$K" audit verify --checkpoint "$T/shipped.ck"
check "the shipped checkpoint still names the missing range" \
	eval 'status_is 1 && stderr_has "entries $((CUT + 1))-$SHIPPED missing: the log ends at $CUT"'
# A checkpoint file made up without the master key: its signature gives it away.
sed "s/ seq=[0-9]* / seq=$((CUT + 40)) /" "$T/shipped.ck" >"$T/forged.ck"
run --data "$K" audit verify --checkpoint "$T/forged.ck"
check "a checkpoint with a bad signature is reported as forged" \
	eval 'status_is 1 && stderr_has "forged.ck" && stderr_has "bad signature: forged or altered"'
# The untouched copy verifies, the shipped checkpoint included.
run --data "$T/ckpt-before" audit verify --checkpoint "$T/shipped.ck"
check "the untouched log verifies against the shipped checkpoint" \
	eval 'status_is 0 && stdout_has "all good"'

# ---- policy ------------------------------------------------------------

run policy check "$SRC/policy/default.json"
check "policy check of policy/default.json exits 0" eval 'status_is 0 && stdout_has ok'

python3 - "$SRC/policy/default.json" "$T/broken-policy.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1], encoding="utf-8"))
p["purposes"][1]["colour"] = "green"
json.dump(p, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False, indent=1)
EOF
run policy check "$T/broken-policy.json"
check "policy check of a purpose with an unknown field exits non-zero" status_not 0
check "the message names the file and the JSON path" \
	eval 'one_error_line && stderr_has "broken-policy.json" && stderr_has "purposes[1]"'

run policy check "$T/no-such-policy.json"
check "policy check of a missing file fails with one line" eval 'status_not 0 && one_error_line'

run --data "$T/custom" init --policy "$T/broken-policy.json"
check "init refuses a broken policy and leaves no DIR behind" \
	eval 'status_not 0 && one_error_line && [ ! -e "$T/custom" ]'

# ---- third parties, subcontractors, provisions -------------------------

P="$T/partners"
run --data "$P" init
check "init of a directory for the partner commands" status_is 0

run --data "$P" subcontractor add --id mailhouse --name "Mail House KK" --contact sec@mh.example \
	--fields name,email --purposes product_news --measure "encryption at rest" \
	--measure "named staff only" --start 2020-01-01 --end 2999-12-31
check "subcontractor add exits 0 and names the term" \
	eval 'status_is 0 && stdout_has "mailhouse" && stdout_has "2999-12-31"'
run --data "$P" subcontractor add --id mailhouse --name "Again" --contact c --fields name \
	--purposes support --measure m --start 2020-01-01 --end 2999-12-31
check "subcontractor add of a taken id exits 1 with one line" eval 'status_is 1 && one_error_line'
run --data "$P" subcontractor add --id other --name "Bad" --contact c --fields shoe_size \
	--purposes resale --measure m --start 2020-01-01 --end 2019-01-01
check "subcontractor add names each bad input (exit 2)" \
	eval 'status_is 2 && one_error_line && stderr_has "--fields unknown_field" && stderr_has "--purposes unknown_purpose"'
run --data "$P" subcontractor list
check "subcontractor list shows the contract in force" \
	eval 'status_is 0 && grep -q "^mailhouse	Mail House KK	2020-01-01	2999-12-31	in force	product_news	name,email$" "$OUT"'

run --data "$P" token create --role subcontractor --name "Mail House batch" --contract mailhouse
check "token create --contract binds a subcontractor's token" \
	eval 'status_is 0 && stdout_has "contract mailhouse" && [ ! -s "$ERR" ]'
run --data "$P" token create --role staff --name "Desk" --contract mailhouse
check "token create --contract for another role is a usage error" \
	eval 'status_is 2 && one_error_line'
run --data "$P" token create --role subcontractor --name "Nobody's" --contract nonesuch
check "token create --contract of an unknown contract exits 1" eval 'status_is 1 && one_error_line'
run --data "$P" token create --role subcontractor --name "Loose"
check "a subcontractor token without a contract is made, with a note" \
	eval 'status_is 0 && stdout_has "reads nothing"'

run --data "$P" third-party add --id acme-printing --name "Acme Printing" --contact dpo@acme.example \
	--purpose "Printing certificates" --fields name,address
check "third-party add exits 0" eval 'status_is 0 && stdout_has "acme-printing"'
run --data "$P" third-party add --id "Bad Id" --name "" --contact c --purpose p --fields name
check "third-party add names each bad input (exit 2)" \
	eval 'status_is 2 && one_error_line && stderr_has "--id malformed" && stderr_has "--name required"'
run --data "$P" third-party list
check "third-party list shows it" eval 'status_is 0 && grep -q "^acme-printing	Acme Printing	name,address	" "$OUT"'
run --data "$P" records
check "records shows the third party and the subcontractor as table rows" \
	eval 'status_is 0 && grep -q "^| .acme-printing. | Acme Printing | dpo@acme.example | Printing certificates | name, address | [0-9-]* |\$" "$OUT" && grep -q "^| .mailhouse. | Mail House KK | sec@mh.example | product_news | name, email | encryption at rest, named staff only | 2020-01-01 to 2999-12-31 |\$" "$OUT"'

run --data "$P" provisions purge --before "$(date -u -d '-1 year' +%Y-%m-%d)"
check "provisions purge refuses a date within three years (exit 2)" \
	eval 'status_is 2 && one_error_line && stderr_has "three years"'
run --data "$P" provisions purge --before 2001-01-01
check "provisions purge of old records exits 0 and counts them" \
	eval 'status_is 0 && stdout_has "deleted 0 records"'
run --data "$P" provisions purge --before yesterday
check "provisions purge --before a non-date is a usage error" eval 'status_is 2 && one_error_line'
run --data "$P" audit verify
check "the partner commands left an intact audit chain" status_is 0

# ---- the officer's workflows: requests, complaints, exceptions, consent --

W="$T/workflows"
run --data "$W" init
check "init of a directory for the officer's workflows" status_is 0
cat >"$T/wf.csv" <<'EOF'
name,address,phone,email,occupation
Quentin Marlowefinch,21 Lantern Street,+81 90 2222 3333,quentin.marlowefinch@example.org,Glassblower
Rosalind Peppercorne,5 Amber Lane,+81 90 4444 5555,rosalind.peppercorne@example.org,Bookbinder
EOF
run --data "$W" import "$T/wf.csv"
check "import of the workflow members" status_is 0
run --data "$W" member find --email quentin.marlowefinch@example.org
M1=$(cat "$OUT")
run --data "$W" member find --email rosalind.peppercorne@example.org
M2=$(cat "$OUT")
# What members and the officer write: none of it may reach stderr or a list.
WF_VALUES=("Quentin Marlowefinch" "Glassblower" "Rosalind Peppercorne" "Lanternwright"
	"Marlowefinch-note" "Marlowefinch-reasons" "Marlowefinch-complaint" "Marlowefinch-answer")
: >"$T/wf-stderr"

run --data "$W" requests list
check "requests list with none open prints only its header" \
	eval 'status_is 0 && stdout_is "$(printf "ID\tMEMBER\tTYPE\tSTATE\tDUE\tDAYS_LEFT")"'
run --data "$W" requests file "$M1" --type disclosure --text "Marlowefinch-note"
check "requests file records a disclosure made on paper" \
	eval 'status_is 0 && stdout_has "(disclosure) for member $M1"'
run --data "$W" requests file "$M1" --type amendment --change "name=Quentin Lanternwright" \
	--text "Marlowefinch-reasons for the change"
check "requests file records an amendment" eval 'status_is 0 && stdout_has "(amendment)"'
run --data "$W" requests file "$M2" --type erasure
check "requests file of an erasure prints the certificate token once" \
	eval 'status_is 0 && stdout_has "certificate token"'
run --data "$W" requests file "$M1" --type amendment --change shoe_size=Lanternwright --text "why"
check "requests file names a bad change (exit 2), not its value" \
	eval 'status_is 2 && one_error_line && ! stderr_has "Lanternwright"'
run --data "$W" requests file "$M1" --type wish
check "requests file of an unknown type is a usage error" eval 'status_is 2 && one_error_line'

run --data "$W" requests list
REQ_D=$(awk -F'\t' '$3 == "disclosure" {print $1}' "$OUT")
REQ_A=$(awk -F'\t' '$3 == "amendment" {print $1}' "$OUT")
REQ_E=$(awk -F'\t' '$3 == "erasure" {print $1}' "$OUT")
check "requests list shows the three open, tab-separated, 13 days left" \
	eval 'status_is 0 && [ "$(grep -c "	received	.*	13$" "$OUT")" -eq 3 ] && [ -n "$REQ_D" ] && [ -n "$REQ_A" ] && [ -n "$REQ_E" ]'
check "requests list shows no personal text" file_lacks_all "$OUT" "${WF_VALUES[@]}"
run --data "$W" requests list --overdue
check "requests list --overdue: none is past its target" \
	eval 'status_is 0 && [ "$(wc -l <"$OUT")" -eq 1 ]'
run --data "$W" requests list --late
check "requests list with an unknown option is a usage error" eval 'status_is 2 && one_error_line'

run --data "$W" requests decide "$REQ_D" --action refuse --reasons "Marlowefinch-reasons"
cat "$ERR" >>"$T/wf-stderr"
check "requests decide refuse without --ground is a usage error" \
	eval 'status_is 2 && one_error_line && stderr_has "--ground"'
run --data "$W" requests decide "$REQ_D" --action refuse --ground whim --reasons "r"
check "requests decide with an unknown ground is a usage error" eval 'status_is 2 && one_error_line'
run --data "$W" requests decide "$REQ_D" --action reject
check "requests decide reject without --reasons is a usage error" eval 'status_is 2 && one_error_line'
run --data "$W" requests decide "$REQ_D" --action ponder --reasons r
check "requests decide with an unknown action is a usage error" eval 'status_is 2 && one_error_line'
run --data "$W" requests decide "$REQ_A" --action refuse --ground breach_of_law \
	--reasons "Marlowefinch-reasons"
cat "$ERR" >>"$T/wf-stderr"
check "requests decide refuse of an amendment exits 2 naming the rule" \
	eval 'status_is 2 && one_error_line && stderr_has "refuse_is_for_disclosure"'
run --data "$W" requests decide "$REQ_D" --action investigate
check "requests decide investigate exits 0" eval 'status_is 0 && stdout_has "investigating"'
run --data "$W" requests decide "$REQ_D" --action investigate
check "requests decide investigate twice exits 1 with one line" eval 'status_is 1 && one_error_line'
run --data "$W" requests decide "$REQ_D" --action refuse --ground breach_of_law \
	--reasons "Marlowefinch-reasons under the law"
check "requests decide refuse with a ground exits 0" eval 'status_is 0 && stdout_has "refused"'
run --data "$W" requests decide "$REQ_D" --action apply
check "requests decide of a decided request exits 1 with one line" \
	eval 'status_is 1 && one_error_line'
run --data "$W" requests decide nonesuch --action apply
check "requests decide of an unknown id exits 1" eval 'status_is 1 && one_error_line'
run --data "$W" requests show "$REQ_D"
check "requests show prints the workflow with the member's note and the reasons" \
	eval 'status_is 0 && json_ok "d[\"state\"] == \"refused\" and d[\"ground\"] == \"breach_of_law\" and d[\"details\"][\"note\"] == \"Marlowefinch-note\" and d[\"history\"][-1][\"reasons\"] == \"Marlowefinch-reasons under the law\""'
run --data "$W" requests show nonesuch
check "requests show of an unknown id exits 1 with one line" eval 'status_is 1 && one_error_line'
run --data "$W" requests decide "$REQ_A" --action apply
check "requests decide apply of an amendment exits 0" eval 'status_is 0 && stdout_has "applied"'
run --data "$W" member show "$M1" --purpose membership
check "the applied amendment changed the field" eval 'status_is 0 && stdout_has "Lanternwright"'
run --data "$W" requests decide "$REQ_E" --action apply
check "requests decide apply of an erasure prints the certificate" \
	eval 'status_is 0 && stdout_has "(erasure): applied" && stdout_has "\"certificate\""'
tail -n +3 "$OUT" >"$T/certificate.json"
run --data "$W" receipt verify "$T/certificate.json"
check "the printed erasure certificate verifies" eval 'status_is 0 && stdout_has "certificate valid"'
run --data "$W" requests show "$REQ_E"
check "requests show of the erasure holds the certificate" \
	eval 'status_is 0 && json_ok "\"certificate\" in d and d[\"state\"] == \"applied\""'
run --data "$W" member show "$M2" --purpose membership
check "the applied erasure erased the member" eval 'status_is 1 && one_error_line'

run --data "$W" complaints file "$M1" --about use --text "Marlowefinch-complaint text"
check "complaints file records a complaint made on paper" eval 'status_is 0 && stdout_has "(use)"'
run --data "$W" complaints file "$M1" --about shoes --text "Marlowefinch-complaint"
cat "$ERR" >>"$T/wf-stderr"
check "complaints file with an unknown subject is a usage error" \
	eval 'status_is 2 && one_error_line && stderr_has "about"'
run --data "$W" complaints list
CMP=$(awk -F'\t' 'NR == 2 {print $1}' "$OUT")
check "complaints list shows it, tab-separated, with no text" \
	eval 'status_is 0 && grep -q "	$M1	use	received	-	.*	29$" "$OUT" && file_lacks_all "$OUT" "${WF_VALUES[@]}"'
run --data "$W" complaints list --overdue
check "complaints list --overdue: none is past due" eval 'status_is 0 && [ "$(wc -l <"$OUT")" -eq 1 ]'
run --data "$W" complaints respond "$CMP" --close
check "complaints respond --close with no response yet is refused (exit 2)" \
	eval 'status_is 2 && one_error_line'
run --data "$W" complaints respond "$CMP"
check "complaints respond without --text is a usage error" eval 'status_is 2 && one_error_line'
run --data "$W" complaints respond "$CMP" --text "Marlowefinch-answer: we are on it"
check "complaints respond answers it" eval 'status_is 0 && stdout_has "answered"'
run --data "$W" complaints respond "$CMP" --close
check "complaints respond --close closes an answered complaint" \
	eval 'status_is 0 && stdout_has "closed"'
run --data "$W" complaints respond "$CMP" --text "Marlowefinch-answer again"
cat "$ERR" >>"$T/wf-stderr"
check "complaints respond to a closed complaint exits 1 with one line" \
	eval 'status_is 1 && one_error_line'
run --data "$W" complaints respond nonesuch --text "Marlowefinch-answer"
cat "$ERR" >>"$T/wf-stderr"
check "complaints respond to an unknown id exits 1" eval 'status_is 1 && one_error_line'
run --data "$W" complaints show "$CMP"
check "complaints show prints the complaint and its response" \
	eval 'status_is 0 && json_ok "d[\"state\"] == \"closed\" and d[\"text\"] == \"Marlowefinch-complaint text\" and len(d[\"responses\"]) == 1"'

run --data "$W" exceptions list
check "exceptions list with an empty queue prints only its header" \
	eval 'status_is 0 && [ "$(wc -l <"$OUT")" -eq 1 ] && stdout_has "JUSTIFICATION"'
run --data "$W" exceptions list --all
check "exceptions list --all exits 0" status_is 0
run --data "$W" exceptions close nonesuch --review "Reviewed: lawful"
check "exceptions close of an unknown id exits 1 with one line" eval 'status_is 1 && one_error_line'
run --data "$W" exceptions close nonesuch
check "exceptions close without --review is a usage error" eval 'status_is 2 && one_error_line'

run --data "$W" consent set "$M1" --kind cookie --target statistics --granted no
check "consent set prints a signed receipt" \
	eval 'status_is 0 && json_ok "d[\"receipt\"][\"choice\"] == \"withdrawn\" and d[\"receipt\"][\"target\"] == \"statistics\" and d[\"receipt\"][\"member\"] == \"$M1\""'
cp "$OUT" "$T/consent-receipt.json"
run --data "$W" receipt verify "$T/consent-receipt.json"
check "the consent receipt verifies" eval 'status_is 0 && stdout_has "receipt valid"'
run --data "$W" consent set "$M1" --kind cookie --target necessary --granted no
check "consent set of a target that cannot be chosen exits 2 naming it" \
	eval 'status_is 2 && one_error_line && stderr_has "target"'
run --data "$W" consent set "$M1" --kind cookie --target statistics --granted maybe
check "consent set --granted other than yes|no is a usage error" eval 'status_is 2 && one_error_line'
run --data "$W" consent set "$M1" --kind mood --target statistics --granted yes
check "consent set of an unknown kind is a usage error" eval 'status_is 2 && one_error_line'
run --data "$W" consent set nobody --kind cookie --target statistics --granted yes
check "consent set for an unknown member exits 1" eval 'status_is 1 && one_error_line'

# `member erase` is the same erasure as an applied erasure request (erasure.h): the
# member's open requests and complaints close with it.
run --data "$W" requests file "$M1" --type disclosure --text "Marlowefinch-note again"
run --data "$W" requests list
REQ_OPEN=$(awk -F'\t' -v m="$M1" '$2 == m && $4 == "received" {print $1}' "$OUT")
run --data "$W" complaints file "$M1" --about other --text "Marlowefinch-complaint again"
run --data "$W" complaints list
CMP_OPEN=$(awk -F'\t' -v m="$M1" '$2 == m && $4 == "received" {print $1}' "$OUT")
check "an open request and an open complaint before the erasure" \
	eval '[ -n "$REQ_OPEN" ] && [ -n "$CMP_OPEN" ]'
run --data "$W" member erase "$M1" --certificate "$T/direct-certificate.json"
check "member erase --certificate erases and says the open ones closed" \
	eval 'status_is 0 && stdout_has "closed (member_erased)"'
run --data "$W" requests show "$REQ_OPEN"
check "member erase closed the open request (member_erased)" \
	eval 'status_is 0 && json_ok "d[\"state\"] == \"closed\" and d[\"history\"][-1][\"note\"] == \"member_erased\""'
run --data "$W" complaints show "$CMP_OPEN"
check "member erase closed the open complaint (member_erased)" \
	eval 'status_is 0 && json_ok "d[\"state\"] == \"closed\" and d[\"note\"] == \"member_erased\""'
run --data "$W" requests list
check "no request of the erased member is left open" eval 'status_is 0 && ! grep -q "$M1" "$OUT"'
run --data "$W" receipt verify "$T/direct-certificate.json"
check "the certificate of a direct erasure verifies" eval 'status_is 0 && stdout_has "certificate valid"'
run --data "$W" member erase "$M2" --certificate
check "member erase --certificate without a file is a usage error" \
	eval 'status_is 2 && one_error_line'

check "the workflow errors hold no member's or officer's words" \
	file_lacks_all "$T/wf-stderr" "${WF_VALUES[@]}"
run --data "$W" audit verify
check "the workflow commands left an intact audit chain" status_is 0

# ---- policy publish ----------------------------------------------------

V="$T/versions"
run --data "$V" init
check "init of a directory for policy versions" status_is 0
python3 - "$V/policy.json" "$T/policy-next.json" "$T/policy-next-bad.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
p["version"] = "2099-01-01.1"
json.dump(p, open(sys.argv[2], "w"))
p["version"] = "2099-02-01.1"
p["purposes"][0]["fields"] = ["shoe_size"]
json.dump(p, open(sys.argv[3], "w"))
EOF
policy_sum=$(sha256sum <"$V/policy.json")
run --data "$V" policy publish "$T/policy-next-bad.json"
check "policy publish of an invalid file: exit 1, one line naming the fault" \
	eval 'status_is 1 && one_error_line && stderr_has "shoe_size" && [ ! -s "$OUT" ]'
check "... and DIR's policy file is untouched" eval '[ "$(sha256sum <"$V/policy.json")" = "$policy_sum" ]'
run --data "$V" policy versions
check "... and no version was published" \
	eval 'status_is 0 && [ "$(wc -l <"$OUT")" -eq 2 ] && ! stdout_has 2099-02-01.1'
run --data "$V" policy publish "$T/no-such-policy.json"
check "policy publish of a missing file: exit 1, one line" eval 'status_is 1 && one_error_line'
run --data "$V" policy publish
check "policy publish without FILE is a usage error" eval 'status_is 2 && one_error_line'
run --data "$V" policy publish "$T/policy-next.json"
check "policy publish of a valid new version exits 0 and names it" \
	eval 'status_is 0 && stdout_has "published policy 2099-01-01.1" && [ ! -s "$ERR" ]'
run --data "$V" policy versions
check "policy versions lists the new version, published by the operator" \
	eval 'status_is 0 && grep -q "^2099-01-01.1	[0-9T:Z-]*	operator$" "$OUT"'
check "DIR's policy file is now the new version" \
	python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["version"] == "2099-01-01.1"' \
	"$V/policy.json"
run --data "$V" policy publish "$T/policy-next.json"
check "publishing the same version twice: exit 1, one line, 'already published'" \
	eval 'status_is 1 && one_error_line && stderr_has "already published"'
run --data "$V" audit verify
check "the publications left an intact audit chain" status_is 0

# ---- startup failures --------------------------------------------------

# Each broken data directory: one line on stderr, exit 1, nothing written to
# stdout and nothing created or changed in the directory.
S="$T/startup"
run --data "$S" init
check "init of a directory to break" status_is 0
listing() { (cd "$1" && find . -printf '%p %s %m\n' | sort && cat ./* 2>/dev/null | sha256sum); }
# broken NAME HOW-TO-BREAK EXPECTED-WORDS: copies $S to $T/NAME, breaks it, runs a command.
broken() {
	local name=$1 how=$2 words=$3 dir="$T/broken-$1" before
	rm -rf "$dir"
	cp -a "$S" "$dir"
	(cd "$dir" && eval "$how")
	before=$(listing "$dir")
	run --data "$dir" token list
	check "startup with $name: exit 1, one line on stderr ('$words'), nothing on stdout" \
		eval 'status_is 1 && one_error_line && stderr_has "$words" && [ ! -s "$OUT" ]'
	check "... and nothing in the directory was created or changed" \
		eval '[ "$(listing "$dir")" = "$before" ]'
}
broken "a master.key of mode 0644" 'chmod 644 master.key' "mode 0644"
broken "a master.key of mode 0640" 'chmod 640 master.key' "mode 0640"
broken "an empty master.key" ': >master.key' "master.key"
broken "a master.key cut short" 'head -c 60 master.key >k && mv k master.key && chmod 600 master.key' "master.key"
broken "a master.key with a key one byte short" \
	'sed -i "s/^\([^#][^ ]* [0-9a-f]*\)[0-9a-f]$/\1/" master.key' "master.key"
broken "a master.key with a key one byte long" \
	'sed -i "s/^\([^#][^ ]* [0-9a-f]*\)$/\1a/" master.key' "master.key"
broken "a master.key of random bytes" \
	'head -c 384 /dev/urandom >master.key && chmod 600 master.key' "master.key"
broken "a corrupt custodian.conf" 'echo "[[[not a section" >>custodian.conf' "custodian.conf"
broken "an unknown key in custodian.conf" 'printf "[server]\nlisten_harder = yes\n" >>custodian.conf' \
	"custodian.conf"
broken "a custodian.db that is not SQLite" \
	'rm -f custodian.db-wal custodian.db-shm && head -c 8192 /dev/zero | tr "\0" "x" >custodian.db' \
	"not a database"
broken "a policy.json that does not parse" 'echo "{not json" >policy.json' "policy.json"
broken "a policy.json that breaks a rule" \
	'python3 -c "import json; p = json.load(open(\"policy.json\")); p[\"purposes\"][0][\"fields\"] = [\"shoe_size\"]; json.dump(p, open(\"policy.json\", \"w\"))"' \
	"shoe_size"
broken "no policy.json" 'rm policy.json' "policy.json"
broken "no master.key" 'rm master.key' "master.key"
rm -rf "$T/missing-data"
run --data "$T/missing-data" token list
check "startup with a data directory that does not exist: exit 1, one line" \
	eval 'status_is 1 && one_error_line && stderr_has init && [ ! -e "$T/missing-data" ]'
# Every command reads the settings' environment variables over the file, and names a bad one.
CUSTODIAN_SERVER_THREADS=0 run --data "$S" token list
check "a refused CUSTODIAN_SERVER_THREADS: exit 1, one line naming the variable, not the value" \
	eval 'status_is 1 && one_error_line && stderr_has "environment variable CUSTODIAN_SERVER_THREADS"'
CUSTODIAN_SERVER_THREADS=3 run --data "$S" token list
check "... and a good one is taken" status_is 0
run --data "$T/broken-a corrupt custodian.conf" serve --listen 127.0.0.1:1
check "serve on a corrupt custodian.conf: exit 2 (a configuration error), one line naming it" \
	eval 'status_is 2 && one_error_line && stderr_has custodian.conf'
run --data "$T/broken-no master.key" serve --listen 127.0.0.1:1
check "serve on a broken data directory: exit 1, one line" eval 'status_is 1 && one_error_line'

# ---- serve: addresses it cannot listen on; exceptions close --------------

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
for bad_listen in nonsense 127.0.0.1: :8080 127.0.0.1:http 127.0.0.1:99999 127.0.0.1:0 \
	127.0.0.1:-1 "127.0.0.1:80 " 999.1.1.1:8080; do
	# A port the old parser took modulo 65536 served on: never hang the suite on it.
	timeout 20 "$BIN" --data "$S" serve --listen "$bad_listen" >"$OUT" 2>"$ERR"
	rc=$?
	check "serve --listen '$bad_listen': exit 1, one line naming it" \
		eval 'status_is 1 && one_error_line && stderr_has "cannot listen on" && stderr_has "$bad_listen"'
done

X="$T/exceptions"
run --data "$X" init
check "init of a directory for the exception review queue" status_is 0
# The server itself must not take long to hash: lower the Argon2id cost.
sed -i 's/^argon2_opslimit = .*/argon2_opslimit = 1/; s/^argon2_memlimit_kib = .*/argon2_memlimit_kib = 8/' \
	"$X/custodian.conf"
printf 'name,address,phone,email,occupation\nOttoline Brackwater,1 Weir Lane,+81 90 7777 8888,ottoline.brackwater@example.org,Wheelwright\n' \
	>"$T/x.csv"
run --data "$X" import "$T/x.csv"
run --data "$X" member find --email ottoline.brackwater@example.org
XM=$(cat "$OUT")
run --data "$X" token create --role officer --name "Exception officer"
XTOKEN=$(sed -n 's/^secret: //p' "$OUT")
check "a member and an officer's token for the exception reads" eval '[ -n "$XM" ] && [ -n "$XTOKEN" ]'
XPORT=$(free_port)
"$BIN" --data "$X" serve --listen "127.0.0.1:$XPORT" --quiet >"$T/serve.out" 2>"$T/serve.err" &
server=$!
for _ in $(seq 300); do
	curl -fs "http://127.0.0.1:$XPORT/readyz" >/dev/null 2>&1 && break
	sleep 0.1
done
check "serve answers /readyz" curl -fs "http://127.0.0.1:$XPORT/readyz" -o /dev/null
timeout 20 "$BIN" --data "$S" serve --listen "127.0.0.1:$XPORT" >"$OUT" 2>"$ERR"
rc=$?
check "serve on a port already taken: exit 1, one line naming the address" \
	eval 'status_is 1 && one_error_line && stderr_has "127.0.0.1:$XPORT"'
exception_read() {
	curl -s -o "$OUT" -w '%{http_code}' -H "Authorization: Bearer $XTOKEN" \
		-H 'Content-Type: application/json' -X POST "http://127.0.0.1:$XPORT/v1/exceptions" \
		--data "{\"member\": \"$XM\", \"purpose\": \"testimonials\", \"exception\": \"law\", \"justification\": \"$1\", \"fields\": [\"name\"]}"
}
check "an exception read opens a review" eval '[ "$(exception_read "Court order 2026-17 for the name.")" = 200 ]'
check "a second exception read opens another" eval '[ "$(exception_read "Court order 2026-18 for the name.")" = 200 ]'
kill -TERM "$server"
wait "$server"
check "the server stopped cleanly on SIGTERM" eval '[ $? -eq 0 ]'

run --data "$X" exceptions list
X1=$(awk -F'\t' 'NR == 2 {print $1}' "$OUT")
X2=$(awk -F'\t' 'NR == 3 {print $1}' "$OUT")
check "exceptions list shows the two open reviews" \
	eval 'status_is 0 && [ "$(wc -l <"$OUT")" -eq 3 ] && [ -n "$X1" ] && [ -n "$X2" ] && stdout_has "Court order 2026-17"'
run --data "$X" exceptions close "$X1" --review "Checked: the order covers the name."
check "exceptions close of an open review exits 0 and says so" \
	eval 'status_is 0 && stdout_is "closed the review of exception $X1" && [ ! -s "$ERR" ]'
run --data "$X" exceptions list
check "... it left the open queue; the other is still there" \
	eval 'status_is 0 && [ "$(wc -l <"$OUT")" -eq 2 ] && ! stdout_has "$X1" && stdout_has "$X2"'
run --data "$X" exceptions list --all
check "exceptions list --all shows it closed, with the review" \
	eval 'status_is 0 && stdout_has "$X1" && stdout_has "Checked: the order covers the name."'
run --data "$X" exceptions close "$X1" --review "Closing it twice."
check "exceptions close of a closed review: exit 1, one line, 'already closed'" \
	eval 'status_is 1 && one_error_line && stderr_has "already closed"'
run --data "$X" exceptions list --all
check "... and the first review stands" \
	eval '! stdout_has "Closing it twice." && stdout_has "Checked: the order covers the name."'
run --data "$X" exceptions close AAAAAAAAAAAAAAAAAAAAAA --review "No such review."
check "exceptions close of an unknown id: exit 1, one line" \
	eval 'status_is 1 && one_error_line && stderr_has "no exception"'
run --data "$X" exceptions close "$X2" --review ""
check "exceptions close with an empty review is a usage error; still open" \
	eval 'status_is 2 && one_error_line'
run --data "$X" exceptions list
check "... the second review is still open" eval 'stdout_has "$X2"'
run --data "$X" audit verify
check "the exception reads and reviews left an intact audit chain" status_is 0

# ---- backup, verify, restore, prune ---------------------------------------------

B=$T/backup-data
run --data "$B" init
for cmd in backup "backup verify" "backup prune" restore; do
	# shellcheck disable=SC2086 # the subcommand is meant to split
	run --data "$B" $cmd --help
	check "'$cmd --help' exits 0 and describes it" eval 'status_is 0 && stdout_has "usage:"'
done
run --data "$B" backup --to
check "backup --to without a value: usage error, one line" eval 'status_is 2 && one_error_line'
run --data "$B" backup verify
check "backup verify without a file: usage error" eval 'status_is 2 && one_error_line'
run --data "$B" restore "$T/x.cubackup"
check "restore without --into: usage error" eval 'status_is 2 && one_error_line'
run --data "$B" backup --to "$T/b1.cubackup"
check "backup --to FILE writes it, mode 0600, and prints the manifest" \
	eval 'status_is 0 && [ ! -s "$ERR" ] && stdout_has "backup written: $T/b1.cubackup" &&
	      stdout_has "backup key 1" && [ "$(stat -c %a "$T/b1.cubackup")" = 600 ]'
run --data "$B" backup --to "$T/b1.cubackup"
check "backup never overwrites: exit 1, one line" eval 'status_is 1 && one_error_line && stderr_has exists'
run --data "$B" backup verify "$T/b1.cubackup"
check "backup verify of a good backup: exit 0" eval 'status_is 0 && stdout_has "backup intact"'
echo "not a backup" >"$T/junk.cubackup"
run --data "$B" backup verify "$T/junk.cubackup"
check "backup verify of a file that is not one: exit 1, one line" \
	eval 'status_is 1 && one_error_line && stderr_has "not a custodian backup"'
run --data "$B" backup verify "$T/absent.cubackup"
check "backup verify of a missing file: exit 1, one line" eval 'status_is 1 && one_error_line'
cp "$T/b1.cubackup" "$T/b2.cubackup"
printf 'X' | dd of="$T/b2.cubackup" bs=1 seek=2000 conv=notrunc 2>/dev/null
run --data "$B" backup verify "$T/b2.cubackup"
check "backup verify of a flipped byte: exit 1, one line" \
	eval 'status_is 1 && one_error_line && stderr_has "does not authenticate"'
run --data "$T/other" init
run --data "$T/other" backup verify "$T/b1.cubackup"
check "another directory's backup key does not open it: exit 1, one line" \
	eval 'status_is 1 && one_error_line'
chmod 644 "$B/backup.key"
run --data "$B" backup verify "$T/b1.cubackup"
check "a backup.key group or others can read is refused" \
	eval 'status_is 1 && one_error_line && stderr_has "mode 0644"'
chmod 600 "$B/backup.key"
run --data "$B" backup
check "backup without --to goes into DIR/backups, named by UTC time" \
	eval 'status_is 0 && ls "$B"/backups/custodian-*Z.cubackup >/dev/null'
run --data "$B" restore "$T/b1.cubackup" --into "$T/restored"
check "restore into a new directory: exit 0, the replay counted" \
	eval 'status_is 0 && stdout_has "erasure replay: 0 member(s)" && [ -f "$T/restored/custodian.db" ] &&
	      [ -f "$T/restored/master.key" ] && [ -f "$T/restored/backup.key" ]'
run --data "$T/restored" audit verify
check "the restored directory's audit chain verifies, with its own checkpoint" status_is 0
run --data "$B" restore "$T/b1.cubackup" --into "$T/restored"
check "restore into a used directory: exit 1, one line" \
	eval 'status_is 1 && one_error_line && stderr_has "not empty"'
run --data "$B" backup prune
check "backup prune with the defaults keeps both" eval 'status_is 0 && stdout_has "removed 0"'

# ---- summary -----------------------------------------------------------

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
