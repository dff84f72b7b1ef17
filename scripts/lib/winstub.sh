# Sourced by scripts/windows-gdb and scripts/windows-dbgkit: starts
# dbgkit-winstub under wine64 on a Windows program, in the background.
#
#   start_winstub PROGRAM.exe [ARGS...]
#
# Needs $root (the repository). Sets $stub_pid and $port (the stub listens
# on 127.0.0.1:$port) and $stub_log (its standard error); STUB_OPTIONS adds
# options for the stub. Builds the stub first (cargo does nothing when it
# is up to date); run scripts/windows-setup once before.

export WINEPREFIX="${WINEPREFIX:-/var/tmp/dbgkit-wine/prefix}"
export WINEDEBUG="${WINEDEBUG:--all}"

start_winstub() {
  local program="$1"
  shift
  local target_dir="${CARGO_TARGET_DIR:-$root/target}"
  local stub="$target_dir/x86_64-pc-windows-gnu/debug/dbgkit-winstub.exe"
  # Built every time (cargo does nothing when it is up to date): an older
  # stub may not know the options asked for.
  (cd "$root" && cargo build --quiet --target x86_64-pc-windows-gnu -p dbgkit-winstub)
  stub_log="$(mktemp /tmp/dbgkit-winstub.XXXXXX.log)"
  echo "the stub's log is $stub_log" >&2
  local windows_program="Z:${program//\//\\}"
  # shellcheck disable=SC2086
  (cd "$(dirname "$program")" && exec /usr/lib/wine/wine64 "$stub" ${STUB_OPTIONS:-} 127.0.0.1:0 "$windows_program" "$@") 2>"$stub_log" &
  stub_pid=$!
  port=""
  for _ in $(seq 300); do
    port="$(sed -n 's/^Listening on port //p' "$stub_log")"
    [ -n "$port" ] && break
    kill -0 "$stub_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    cat "$stub_log" >&2
    return 1
  fi
}

# Ends a stub its client never reached (one that served a client ends with it).
stop_winstub() {
  sleep 1
  kill "$stub_pid" 2>/dev/null || true
  wait "$stub_pid" 2>/dev/null || true
}
