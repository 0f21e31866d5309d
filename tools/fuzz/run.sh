#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets (clang, ASan + UBSan) in their own build dir and runs
# each for a bounded time from its committed seed corpus. See docs/reliability.md.
#
#   tools/fuzz/run.sh [build-dir] [seconds-per-fuzzer] [fuzzer...]
#   FUZZ_SECONDS=600 make fuzz            FUZZERS="fuzz_json fuzz_url" make fuzz
#
# New inputs go to <build-dir>/corpus/<fuzzer>/ (kept between runs, never into the repo);
# crashes, leaks and hangs to <build-dir>/artifacts/. Exit status 1 if any fuzzer found one.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build-fuzz}
seconds=${2:-${FUZZ_SECONDS:-60}}
shift 2 2>/dev/null || shift $#
fuzzers=("$@")
((${#fuzzers[@]})) || read -r -a fuzzers <<< "${FUZZERS:-fuzz_json fuzz_url fuzz_proxy fuzz_http_client fuzz_ws_server}"
cd "$here"

# clang 14 and its libFuzzer runtime (Debian: clang-14, libclang-rt-14-dev). Not needed by
# `make test`, so not in tools/install-deps.sh.
CXX_FUZZ=${CXX_FUZZ:-clang++-14}
CC_FUZZ=${CC_FUZZ:-clang-14}
have_fuzzer_rt() {
  command -v "$CXX_FUZZ" >/dev/null 2>&1 &&
    echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
      "$CXX_FUZZ" -x c++ -fsanitize=fuzzer -o /dev/null - >/dev/null 2>&1
}
if ! have_fuzzer_rt; then
  echo "fuzz: installing clang-14 libclang-rt-14-dev"
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends clang-14 libclang-rt-14-dev >/dev/null
  have_fuzzer_rt || { echo "fuzz: $CXX_FUZZ cannot link -fsanitize=fuzzer" >&2; exit 2; }
fi
tools/install-deps.sh  # the libraries moonwire itself builds against

if [[ ! -f $build/build.ninja ]]; then
  CC=$CC_FUZZ CXX=$CXX_FUZZ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMW_FUZZ=ON
fi
ninja -C "$build" "${fuzzers[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build/artifacts"
failed=()
for f in "${fuzzers[@]}"; do
  name=${f#fuzz_}
  seeds=tools/fuzz/corpus/$name
  work=$build/corpus/$name
  mkdir -p "$work"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$build/artifacts/$f-")
  [[ -f tools/fuzz/$name.dict ]] && args+=(-dict="tools/fuzz/$name.dict")
  echo "=== $f: $seconds s (seeds: $seeds)"
  if "$build/$f" "${args[@]}" "$work" "$seeds" > "$build/$f.log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^#[0-9]+ *DONE" "$build/$f.log" | tail -2 || true
    echo "    ok ($(ls "$work" | wc -l) inputs in $work)"
  else
    failed+=("$f")
    grep -E "ERROR|SUMMARY|runtime error|fuzz_[a-z_]+:|Test unit written" "$build/$f.log" | head -20 || true
    echo "    FAILED: see $build/$f.log"
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: ${#failed[@]} fuzzer(s) found problems: ${failed[*]}"
  exit 1
fi
echo "fuzz: ${#fuzzers[@]} fuzzers ran $seconds s each, nothing found"
