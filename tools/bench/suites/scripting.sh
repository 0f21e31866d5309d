# shellcheck shell=bash
# Scripting modules (issue 10): process.exec/spawn rate, fs.copy, crypto.sha256, buffer.
# Sourced by tools/bench/run.sh in a subshell (MW, TB, WORK, QUICK, have, ratio, verdict,
# fmt_int, max_of are the runner's). Markdown on stdout, progress on stderr. Every child is
# waited for here (nothing runs in the background), so nothing is left to stop.
if [[ $QUICK = 1 ]]; then
  SP_COUNT=30 CP_MIB=64 SHA_MIB=32 BUF_N=200000 SC_REPS=1
else
  SP_COUNT=200 CP_MIB=1024 SHA_MIB=100 BUF_N=1000000 SC_REPS=3
fi
SCR="$ROOT/tools/bench/scripting.lua"
sc_kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
sc_now() { echo "$EPOCHREALTIME"; }
sc_rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { d = b - a; if (d > 0) printf "%.1f", n / d; else print "n/a" }'; }
sc_mib() { awk -v r="$1" 'BEGIN { if (r == "n/a") print r; else printf "%.0f", r / 1048576 }'; }
declare -A S

# --- process.exec("true") / process.spawn("true") vs posix_spawn and Node ----------------------
echo "== scripting: $SP_COUNT sequential children each, best of $SC_REPS" >&2
have node && S[node]=1
for ((r = 0; r < SC_REPS; r++)); do  # interleaved, so every row sees the same machine load
  S[exec_mw_$r]=$(sc_kv rate "$("$MW" "$SCR" exec "$SP_COUNT")")
  S[exec_base_$r]=$(sc_kv rate "$("$TB/bench_spawn_baseline" "$SP_COUNT" --shell)")
  S[spawn_mw_$r]=$(sc_kv rate "$("$MW" "$SCR" spawn "$SP_COUNT")")
  S[spawn_base_$r]=$(sc_kv rate "$("$TB/bench_spawn_baseline" "$SP_COUNT")")
  if [[ -n ${S[node]:-} ]]; then
    S[exec_node_$r]=$(sc_kv rate "$(node "$ROOT/tools/bench/node_exec_file.js" "$SP_COUNT" --shell)")
    S[spawn_node_$r]=$(sc_kv rate "$(node "$ROOT/tools/bench/node_exec_file.js" "$SP_COUNT")")
  fi
done
for k in exec spawn; do
  for who in mw base node; do
    vals=()
    for ((r = 0; r < SC_REPS; r++)); do [[ -n ${S[${k}_${who}_$r]:-} ]] && vals+=("${S[${k}_${who}_$r]}"); done
    S[${k}_$who]=$( ((${#vals[@]})) && max_of "${vals[@]}" || echo n/a)
  done
  printf "  %-5s moonwire %8s/s  posix_spawn %8s/s  node %8s/s\n" "$k" "${S[${k}_mw]}" "${S[${k}_base]}" "${S[${k}_node]}" >&2
done

# --- fs.copy vs cp ------------------------------------------------------------------------------
echo "== scripting: fs.copy of $CP_MIB MiB (random bytes) vs cp, best of $SC_REPS" >&2
head -c "$((CP_MIB * 1048576))" /dev/urandom >"$WORK/copy-src.bin"
S[cp_mw]=0 S[cp_base]=0
for ((r = 0; r < SC_REPS; r++)); do
  rm -f "$WORK/copy-dst.bin"
  t0=$(sc_now); cp "$WORK/copy-src.bin" "$WORK/copy-dst.bin"; t1=$(sc_now)
  rate=$(sc_rate "$((CP_MIB * 1048576))" "$t0" "$t1")
  ge "$rate" "${S[cp_base]}" && S[cp_base]=$rate
  rm -f "$WORK/copy-dst.bin"
  t0=$(sc_now); "$MW" "$SCR" copy "$WORK/copy-src.bin" "$WORK/copy-dst.bin" >/dev/null; t1=$(sc_now)
  cmp -s "$WORK/copy-src.bin" "$WORK/copy-dst.bin" || { echo "bench: fs.copy made a different file" >&2; exit 1; }
  rate=$(sc_rate "$((CP_MIB * 1048576))" "$t0" "$t1")
  ge "$rate" "${S[cp_mw]}" && S[cp_mw]=$rate
done
rm -f "$WORK/copy-src.bin" "$WORK/copy-dst.bin"
printf "  copy  moonwire %6s MiB/s  cp %6s MiB/s\n" "$(sc_mib "${S[cp_mw]}")" "$(sc_mib "${S[cp_base]}")" >&2

# --- crypto.sha256 vs sha256sum -----------------------------------------------------------------
echo "== scripting: sha256 of $SHA_MIB MiB vs sha256sum, best of $SC_REPS" >&2
head -c "$((SHA_MIB * 1048576))" /dev/urandom >"$WORK/sha-src.bin"
S[sha_mw]=0 S[sha_base]=0 S[sha_call]=0
want_digest=$(sha256sum "$WORK/sha-src.bin" | cut -d' ' -f1)
for ((r = 0; r < SC_REPS; r++)); do
  t0=$(sc_now); sha256sum "$WORK/sha-src.bin" >/dev/null; t1=$(sc_now)
  rate=$(sc_rate "$((SHA_MIB * 1048576))" "$t0" "$t1")
  ge "$rate" "${S[sha_base]}" && S[sha_base]=$rate
  t0=$(sc_now); out=$("$MW" "$SCR" sha256 "$WORK/sha-src.bin"); t1=$(sc_now)
  [[ $(sc_kv digest "$out") = "$want_digest" ]] || { echo "bench: crypto.sha256 differs from sha256sum" >&2; exit 1; }
  rate=$(sc_rate "$((SHA_MIB * 1048576))" "$t0" "$t1")
  ge "$rate" "${S[sha_mw]}" && S[sha_mw]=$rate
  ge "$(sc_kv rate "$out")" "${S[sha_call]}" && S[sha_call]=$(sc_kv rate "$out")
done
rm -f "$WORK/sha-src.bin"
printf "  sha256 moonwire %6s MiB/s (the call alone %s MiB/s)  sha256sum %6s MiB/s\n" "$(sc_mib "${S[sha_mw]}")" \
  "$(sc_mib "${S[sha_call]}")" "$(sc_mib "${S[sha_base]}")" >&2

# --- buffer vs string.pack/unpack ---------------------------------------------------------------
echo "== scripting: $BUF_N int32 through buffer and string.pack/unpack, best of $SC_REPS" >&2
S[buf_mw]=0 S[buf_base]=0
for ((r = 0; r < SC_REPS; r++)); do
  out=$("$MW" "$SCR" buffer "$BUF_N")
  ge "$(sc_kv rate "$out")" "${S[buf_mw]}" && S[buf_mw]=$(sc_kv rate "$out") S[buf_mw_pu]="$(sc_kv pack "$out") s + $(sc_kv unpack "$out") s"
  out=$("$MW" "$SCR" pack "$BUF_N")
  ge "$(sc_kv rate "$out")" "${S[buf_base]}" && S[buf_base]=$(sc_kv rate "$out") S[buf_base_pu]="$(sc_kv pack "$out") s + $(sc_kv unpack "$out") s"
done
printf "  buffer %s ints/s (%s)  string.pack %s ints/s (%s)\n" "$(fmt_int "${S[buf_mw]}")" "${S[buf_mw_pu]}" \
  "$(fmt_int "${S[buf_base]}")" "${S[buf_base_pu]}" >&2

# --- the section -------------------------------------------------------------------------------
row() {  # row WHAT MOONWIRE BASELINE_NAME BASELINE TARGET UNIT (numbers without separators)
  local q v t="≥ $5" a=$2 b=$4
  q=$(ratio "$2" "$4")
  [[ $2 = n/a || $4 = n/a ]] && q=n/a
  v=$(verdict "$q" "$5")
  [[ $q = n/a ]] && v="n/a"
  [[ $5 = - ]] && v=report t="—"
  [[ $6 = ints/s ]] && a=$(fmt_int "$2") b=$(fmt_int "$4")
  echo "| $1 | $a $6 | $3 | $b $6 | ${q}× | $t | $v |"
}
mib() { sc_mib "$1"; }
cat <<MD
## Scripting modules: process, fs.copy, crypto, buffer (issue 10)

What a CI or shebang script does most: run commands, copy files, hash data, parse binary
formats. Each row is measured in the same run as its baseline, interleaved, best of $SC_REPS.
\`process.exec\`/\`process.spawn\`: $SP_COUNT children one after another (\`"true"\`, stdout and
stderr captured), against a C++ \`posix_spawn\` loop (\`bench_spawn_baseline\`: pipes read to EOF
with poll, then waitpid; \`--shell\` runs \`/bin/sh -c true\` as \`exec\` does) and Node
\`child_process.exec\`/\`execFile\` awaited in a loop. \`fs.copy\` of a $CP_MIB MiB file of random
bytes (page cache warm) against \`cp\`, whole processes timed. \`crypto.sha256\` of $SHA_MIB MiB
in memory (timed inside the script; it runs on the worker pool while the task waits) against
\`sha256sum\` of a file of the same bytes (whole process, page cache warm); and, for the whole
job, moonwire reading the file with \`fs.read_bytes\` and hashing it (whole process timed:
here most of it is the page faults of a fresh $SHA_MIB MiB string, which \`sha256sum\`'s
streaming read does not have). \`buffer\`: $(fmt_int "$BUF_N")
\`writeInt32LE\` into one buffer, then as many \`readInt32LE\` ($( echo "${S[buf_mw_pu]}")), against
\`string.pack("<i4")\` parts joined by \`table.concat\` and \`string.unpack\` with a position
(${S[buf_base_pu]}), both in moonwire's Lua. Rates: higher is better; ratio = moonwire / baseline.

| what | moonwire | baseline | baseline rate | ratio | target | verdict |
| --- | --- | --- | --- | --- | --- | --- |
$(row 'process.exec("true")' "${S[exec_mw]}" 'posix_spawn sh -c true' "${S[exec_base]}" 0.80 /s)
$(row 'process.spawn("true")' "${S[spawn_mw]}" 'posix_spawn true' "${S[spawn_base]}" 0.80 /s)
$(row 'process.exec("true")' "${S[exec_mw]}" 'Node exec("true")' "${S[exec_node]}" 1.00 /s)
$(row 'process.spawn("true")' "${S[spawn_mw]}" 'Node execFile("true")' "${S[spawn_node]}" 1.00 /s)
$(row "fs.copy $CP_MIB MiB" "$(mib "${S[cp_mw]}")" cp "$(mib "${S[cp_base]}")" 0.80 MiB/s)
$(row "crypto.sha256 $SHA_MIB MiB (the call)" "$(mib "${S[sha_call]}")" 'sha256sum (whole process)' "$(mib "${S[sha_base]}")" 0.80 MiB/s)
$(row "fs.read_bytes + crypto.sha256 (whole process)" "$(mib "${S[sha_mw]}")" 'sha256sum (whole process)' "$(mib "${S[sha_base]}")" - MiB/s)
$(row "buffer int32 write+read" "${S[buf_mw]}" 'string.pack/unpack' "${S[buf_base]}" 1.00 ints/s)
MD
