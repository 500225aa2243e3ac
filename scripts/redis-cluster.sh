#!/usr/bin/env bash
# A local Redis Cluster for the tests: 3 masters (7001-7003) and one replica each (7004-7006),
# from the machine's redis-server, nothing persisted. Idempotent.
#   scripts/redis-cluster.sh start | stop | status
set -euo pipefail
cd "$(dirname "$0")/.."
# Outside the checkout, so that a clone deleted after starting the cluster does not take the
# nodes' files with it (a failover test restarts its node from them).
dir="${TESSERA_REDIS_CLUSTER_DIR:-${TMPDIR:-/tmp}/tessera-redis-cluster}"
ports=(7001 7002 7003 7004 7005 7006)

up() { redis-cli -p 7001 cluster info 2>/dev/null | grep -q 'cluster_state:ok'; }

# Up, and whole: all six nodes answer and every master still has a connected replica. A run
# that lost a node (a failover test cut off before it restarted its node) is rebuilt, not reused:
# the next failover test needs a replica to promote.
healthy() {
  up || return 1
  for port in "${ports[@]}"; do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG || return 1; done
  local nodes
  nodes=$(redis-cli -p 7001 cluster nodes 2>/dev/null) || return 1
  [ "$(grep -c 'master' <<<"$nodes")" = 3 ] || return 1
  [ "$(grep 'slave' <<<"$nodes" | grep -c 'connected')" = 3 ] || return 1
  [ "$(grep -c 'fail' <<<"$nodes")" = 0 ] || return 1
}

start() {
  if healthy; then echo "[redis-cluster] already up on 7001-7006"; return 0; fi
  command -v redis-server >/dev/null || { echo "[redis-cluster] redis-server is not installed"; return 1; }
  mkdir -p "$dir"
  for port in "${ports[@]}"; do redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; done
  # A node still shutting down would keep its port and its cluster state: wait until all are gone.
  for port in "${ports[@]}"; do
    for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 || break; sleep 0.1; done
  done
  # Replication writes RDB files even with --save "": a node must not start with old keys.
  rm -f "$dir"/*.rdb
  for port in "${ports[@]}"; do
    rm -f "$dir/nodes-$port.conf"
    # A short node timeout makes a failover take seconds, not the default 15 s.
    redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes \
      --cluster-config-file "$dir/nodes-$port.conf" --cluster-node-timeout 2000 \
      --save "" --appendonly no --dir "$dir" --dbfilename "dump-$port.rdb" \
      --daemonize yes --logfile "$dir/$port.log"
  done
  for port in "${ports[@]}"; do
    for _ in $(seq 1 50); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  done
  redis-cli --cluster create $(printf '127.0.0.1:%s ' "${ports[@]}") --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 \
    || { cat "$dir/create.log"; return 1; }
  for _ in $(seq 1 100); do
    # Whole, and every replica in sync with its master: a failover test may run at once.
    if healthy && [ "$(redis-cli -p 7001 cluster info | grep -c 'cluster_slots_ok:16384')" = 1 ] \
      && [ "$(for p in "${ports[@]}"; do redis-cli -p "$p" info replication; done | grep -c 'master_link_status:up')" = 3 ]; then
      echo "[redis-cluster] up: 3 masters, 3 replicas on 127.0.0.1:7001-7006"; return 0
    fi
    sleep 0.2
  done
  echo "[redis-cluster] did not reach cluster_state:ok"; return 1
}

stop() {
  for port in "${ports[@]}"; do redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; done
  rm -rf "$dir"
  echo "[redis-cluster] stopped"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) if up; then echo up; else echo down; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status"; exit 2 ;;
esac
