/**
 * Throwaway database servers that a test may stop and start at will, without disturbing the
 * shared ones other test files use: a Redis on its own port and data directory, a PostgreSQL
 * cluster made with initdb. Both keep their data across a stop/start, like a real restart.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within ${ms} ms`);
}

/** A Redis server of our own, with an RDB file so a restart keeps its data. */
export async function ownRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-redis-'));
  const ping = () =>
    spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.includes(
      'PONG',
    );
  const start = async () => {
    spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--enable-debug-command',
        'local', // DEBUG SLEEP: a busy server, for the outcome-unknown test
        '--daemonize',
        'yes',
      ],
      {
        stdio: 'ignore',
      },
    );
    await until(ping, 10_000, 'redis-server');
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    /** Stop it, saving its data first (as `redis-cli shutdown` does on a server with persistence). */
    stop: async () => {
      spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'save']);
      await until(() => !ping(), 10_000, 'redis shutdown');
    },
    start,
    destroy: async () => {
      spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function pgBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const version = readdirSync(root).sort().at(-1);
  return version ? join(root, version, 'bin') : null;
}

/** Whether this machine can make a PostgreSQL cluster of our own (initdb, run as `postgres`). */
export function canRunOwnPostgres(): string | null {
  const bin = pgBin();
  if (!bin || !existsSync(join(bin, 'initdb')))
    return 'PostgreSQL server binaries (initdb) are not installed';
  if (spawnSync('id', ['postgres']).status !== 0)
    return 'there is no postgres system user to run a cluster as';
  return null;
}

/** A PostgreSQL cluster of our own on a free port (trust auth), stoppable and restartable. */
export async function ownPostgres() {
  const bin = pgBin()!;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const asPostgres = (cmd: string, args: string[]) =>
    process.getuid?.() === 0
      ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' })
      : execFileSync(cmd, args, { stdio: 'pipe' });
  asPostgres(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const ctl = (action: string, extra: string[] = []) =>
    asPostgres(join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      '-w',
      '-t',
      '30',
      action,
      ...extra,
    ]);
  ctl('start', ['-l', join(dir, 'log')]);
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      ctl('stop', ['-m', 'fast']);
    },
    /** Freeze (SIGSTOP) or thaw (SIGCONT) this cluster's postmaster and all its backends. */
    signal: (sig: 'SIGSTOP' | 'SIGCONT') => {
      const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const children = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean)
        .map(Number);
      for (const p of [pid, ...children]) process.kill(p, sig);
    },
    start: async () => {
      ctl('start', ['-l', join(dir, 'log')]);
    },
    destroy: async () => {
      try {
        ctl('stop', ['-m', 'immediate']);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether this machine can make a MariaDB server of our own (mariadb-install-db, mariadbd). */
export function canRunOwnMariadb(): string | null {
  if (!existsSync('/usr/sbin/mariadbd') || !existsSync('/usr/bin/mariadb-install-db'))
    return 'MariaDB server binaries (mariadbd, mariadb-install-db) are not installed';
  return null;
}

/** A MariaDB server of our own on a free port (root, no password), stoppable and restartable. */
export async function ownMariadb() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-mariadb-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  execFileSync(
    '/usr/bin/mariadb-install-db',
    [
      '--no-defaults',
      `--datadir=${data}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      ...asRoot,
    ],
    { stdio: 'pipe' },
  );
  let child: ReturnType<typeof spawn> | null = null;
  const up = () =>
    spawnSync(
      'mysqladmin',
      ['--protocol=tcp', '-h', '127.0.0.1', '-P', String(port), '-uroot', 'ping'],
      {
        encoding: 'utf8',
      },
    ).status === 0;
  const start = async () => {
    child = spawn(
      '/usr/sbin/mariadbd',
      [
        '--no-defaults',
        `--datadir=${data}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--socket=${join(dir, 'sock')}`,
        `--pid-file=${join(dir, 'pid')}`,
        '--skip-log-bin',
        '--innodb-buffer-pool-size=16M',
        ...asRoot,
      ],
      { stdio: 'ignore' },
    );
    await until(up, 30_000, 'mariadbd');
  };
  await start();
  execFileSync('mysql', [
    '--protocol=tcp',
    '-h',
    '127.0.0.1',
    '-P',
    String(port),
    '-uroot',
    '-e',
    'CREATE DATABASE IF NOT EXISTS test',
  ]);
  /** Stop it by its pid (SIGTERM: a clean shutdown) and wait until it has exited. */
  const stop = async () => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill('SIGTERM');
    await exited;
  };
  return {
    port,
    url: `mysql://root@127.0.0.1:${port}/test`,
    stop,
    start,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
