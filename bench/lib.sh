# bench/lib.sh — the helpers the bench/run-* scripts share (sourced, not run).
#
# Before sourcing, a script sets BENCH (its name in messages, e.g.
# "bench/run-http") and, for the wrk readers, W (its scratch directory).
#
#   knob NAME DEFAULT MIN MAX   the environment's NAME as a whole number in
#                               MIN..MAX (DEFAULT when unset); exit 2 otherwise
#   fail WORDS...               says so, prints "BENCHMARK FAILED", exit 1
#   calc FORMAT EXPR            awk's printf of EXPR ("calc .2f 1/3")
#   ge A B                      whether A >= B (awk expressions)
#   cpu PID                     seconds of CPU the process has used (user + system)
#   to_ms WRK_TIME              wrk's "850.00us", "1.20ms", "2.00s" in milliseconds
#   wrk_rps OUT | wrk_count OUT requests/s and requests of wrk's output $W/OUT
#   wrk_p OUT PCT               the latency percentile PCT ("99%") of $W/OUT in ms

knob() {
	v=$(printenv "$1" || true)
	[ -n "$v" ] || v=$2
	case $v in
	*[!0-9]* | '') echo "$BENCH: $1='$v' is not a number from $3 to $4" >&2; exit 2 ;;
	esac
	if [ "$v" -lt "$3" ] || [ "$v" -gt "$4" ]; then
		echo "$BENCH: $1='$v' is not a number from $3 to $4" >&2
		exit 2
	fi
	echo "$v"
}

fail() {
	echo "$BENCH: $*" >&2
	echo "  BENCHMARK FAILED"
	exit 1
}

calc() { awk "BEGIN { printf \"%$1\", $2 }"; }
ge() { awk "BEGIN { exit !($1 >= $2) }"; }

TICK=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu() { awk -v t="$TICK" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$1/stat" 2>/dev/null; }

to_ms() {
	echo "$1" | awk '{
		v = $1 + 0
		if ($1 ~ /us$/) v /= 1000
		else if ($1 ~ /ms$/) v = v
		else if ($1 ~ /m$/) v *= 60000
		else if ($1 ~ /s$/) v *= 1000
		printf "%.2f", v }'
}

wrk_rps() { awk '$1 == "Requests/sec:" { print $2 }' "$W/$1"; }
wrk_count() { awk '/ requests in / { print $1 }' "$W/$1"; }
wrk_p() { to_ms "$(awk -v p="$2" '$1 == p { print $2 }' "$W/$1")"; }
