#!/usr/bin/env bash
# Make sure the services the test suite talks to are up. Starts what is installed and stopped;
# fails loudly (under CI) when something cannot be had. Idempotent.
set -uo pipefail

log() { printf '[services] %s\n' "$*"; }

ensure_postgres() {
  if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then log "postgres: up"; return 0; fi
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    log "postgres: starting"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && { log "postgres: up"; return 0; }; sleep 1; done
  fi
  log "postgres: NOT reachable on 127.0.0.1:5432"; return 1
}

ensure_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then log "redis: up"; return 0; fi
  if command -v redis-server >/dev/null; then
    log "redis: starting"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
    for _ in $(seq 1 30); do redis-cli -p 6379 ping 2>/dev/null | grep -q PONG && { log "redis: up"; return 0; }; sleep 0.5; done
  fi
  log "redis: NOT reachable on 127.0.0.1:6379"; return 1
}

mariadb_up() { mysqladmin --protocol=tcp -h 127.0.0.1 -P 3306 -uroot ping >/dev/null 2>&1; }

ensure_mariadb() {
  if mariadb_up; then log "mariadb: up"; return 0; fi
  if [ -x /usr/sbin/mariadbd ]; then
    log "mariadb: starting"
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql || true
    for _ in $(seq 1 60); do mariadb_up && { log "mariadb: up"; return 0; }; sleep 0.5; done
  fi
  log "mariadb: NOT reachable on 127.0.0.1:3306"; return 1
}

ensure_redis_cluster() {
  if ! command -v redis-server >/dev/null; then log "redis cluster: redis-server NOT installed"; return 1; fi
  bash "$(dirname "$0")/redis-cluster.sh" start
}

status=0
ensure_postgres || status=1
ensure_redis || status=1
ensure_mariadb || status=1
ensure_redis_cluster || status=1
exit $status
