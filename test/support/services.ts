/**
 * Real services for the test suite. On a developer's laptop a service that cannot be reached
 * skips its suite with the reason printed; under CI (`CI=true`) it fails the run instead, so a
 * green CI always means the suite ran against the real thing.
 */
import { Cluster } from 'ioredis';

export const isCI = process.env.CI === 'true' || process.env.CI === '1';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/**
 * Run `probe`; resolve `null` when the service answers, or the reason it does not.
 * Under CI an unreachable service throws, failing the file.
 */
export async function serviceUnavailable(
  name: string,
  probe: () => Promise<unknown>,
  timeoutMs = 5000,
): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return null;
  } catch (err) {
    const reason = `${name} is not reachable (${(err as Error).message}); its tests are skipped`;
    if (isCI)
      throw new Error(`${reason.replace('; its tests are skipped', '')} and CI=true requires it`);
    console.warn(`[skip] ${reason}`);
    return reason;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A client of the project's own Redis Cluster (scripts/redis-cluster.sh: 3 masters, 3 replicas on
 * 7001–7006), and why it is unavailable (`null`: connected, and its state is ok). Every node is a
 * startup node: another test file's failover test may be restarting one of them.
 */
export async function redisCluster(): Promise<{ cluster: Cluster; unavailable: string | null }> {
  const cluster = new Cluster(
    [7001, 7002, 7003, 7004, 7005, 7006].map((port) => ({ host: '127.0.0.1', port })),
    { lazyConnect: true, redisOptions: { maxRetriesPerRequest: 1 } },
  );
  cluster.on('error', () => {});
  const unavailable = await serviceUnavailable(
    'Redis Cluster (scripts/redis-cluster.sh start)',
    async () => {
      await cluster.connect();
      // A failover elsewhere (another test file) leaves the state not ok for a few seconds.
      for (let i = 0; ; i++) {
        const info = await cluster.cluster('INFO');
        if (String(info).includes('cluster_state:ok')) return;
        if (i >= 40) throw new Error('cluster_state is not ok');
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    15_000,
  );
  return { cluster, unavailable };
}
