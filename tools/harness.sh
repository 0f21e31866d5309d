# Shared by tools/bench/run.sh and tools/soak/run.sh (sourced): building the targets a run needs,
# and a work directory whose processes are all stopped, by PID, however the run ends.

# harness_build NAME BUILD_DIR TARGET... : builds quietly, shows the log's tail on failure.
harness_build() {
  local name=$1 build=$2
  shift 2
  local log="/tmp/moonwire-$name-build.$$.log"
  echo "== building $* in $build"
  if ! ninja -C "$build" "$@" >"$log" 2>&1; then
    tail -30 "$log" >&2
    rm -f "$log"
    echo "$name: build failed" >&2
    exit 1
  fi
  rm -f "$log"
}

# harness_setup NAME : WORK (a fresh directory) and PIDS (append every started process's PID);
# on exit every PID gets SIGTERM, then SIGKILL, and WORK is removed.
harness_setup() {
  WORK=$(mktemp -d "/tmp/moonwire-$1.XXXXXX")
  PIDS=()
  trap harness_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # Servers and load generators hold ~10k descriptors for the memory and soak runs.
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}

harness_cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.2
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}

# harness_start_nginx DIRECTIVES : a foreground nginx (stopped with the others) on a free
# 127.0.0.1 port, serving $WORK/www, with DIRECTIVES added to its http block. Sets NGINX_PORT
# and NGINX_PID; exits the run if it does not start.
harness_start_nginx() {
  local bin user="" i
  bin=$(command -v nginx || echo /usr/sbin/nginx)
  [[ -x $bin ]] || { echo "nginx is not installed" >&2; exit 1; }
  NGINX_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$WORK/www" "$WORK/nginx/tmp"
  [[ $(id -u) = 0 ]] && user="user root;"
  cat >"$WORK/nginx/nginx.conf" <<NGINX
$user
worker_processes 1;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/tmp/body;
  proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
  scgi_temp_path $WORK/nginx/tmp/scgi;
  types { application/octet-stream bin; }
  $1
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/www;
  }
}
NGINX
  "$bin" -e "$WORK/nginx/error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" \
    -g "daemon off; pid $WORK/nginx/nginx.pid; error_log $WORK/nginx/error.log;" >"$WORK/nginx/out" 2>&1 &
  NGINX_PID=$!
  PIDS+=("$NGINX_PID")
  for ((i = 0; i < 100; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null && return 0
    kill -0 "$NGINX_PID" 2>/dev/null || break
    sleep 0.05
  done
  cat "$WORK/nginx/out" "$WORK/nginx/error.log" >&2 2>/dev/null || true
  echo "nginx did not start" >&2
  exit 1
}
