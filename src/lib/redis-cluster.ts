/**
 * Per-user work on a Redis Cluster as one script per node. A user's sessions are spread over
 * every slot; one command each would be thousands of commands for one login (0.4–0.6 s for 10 000
 * sessions). Grouped by the master that serves their slots (the client's slot map), they go as one
 * `allow-cross-slot-keys` script per node (Redis 7+; FIELDS_MANY and DESTROY_MANY in
 * src/lib/redis-user-scripts.ts). Keys whose slot moved meanwhile, and every key on a server that
 * refuses such a script, are sent one by one.
 * @internal
 */

/** Redis Cluster's key → slot function: CRC16/XMODEM of the key's hash tag, mod 16384. */
const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let crc = n << 8;
    for (let i = 0; i < 8; i++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[n] = crc;
  }
  return table;
})();

/** The slot of a key whose hash tag is `tag` (the text between `{` and `}`). */
export function slotOf(tag: string): number {
  let crc = 0;
  for (const byte of Buffer.from(tag))
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc & 0x3fff;
}

/** What the per-node work needs from the store: the slot map, and the calls it makes. */
export interface PerNodePorts {
  /** Slot → node keys, the master first (ioredis `Cluster#slots`). */
  slots(): readonly (readonly string[])[];
  /** FIELDS_MANY on the node of `names[0]`: three values per name, or the error text first. */
  fieldsMany(names: readonly string[]): Promise<(string | null)[]>;
  /** DESTROY_MANY on the node of `names[0]`: 1 deleted, 0 gone or another user's, -1 not local. */
  destroyMany(userId: string, names: readonly string[]): Promise<number[]>;
  /** `m:e`, `m:u`, `m:l` of one session. */
  fields(name: string): Promise<(string | null)[]>;
  /** Delete one session if bound to `userId`; whether it did. */
  destroy(userId: string, name: string): Promise<boolean>;
  /** The Redis key of a session key (its hash tag is the session key). */
  sessionKey(key: string): string;
}

export function perNode(ports: PerNodePorts) {
  const { sessionKey } = ports;

  /** `keys` grouped by the master serving their slot. */
  function byNode(keys: readonly string[]): string[][] {
    const slots = ports.slots();
    const groups = new Map<string, string[]>();
    for (const k of keys) {
      const node = slots[slotOf(k)]?.[0] ?? '';
      let group = groups.get(node);
      if (!group) groups.set(node, (group = []));
      group.push(k);
    }
    return [...groups.values()];
  }

  return {
    /** `[m:e, m:u, m:l]` of each session (nulls when missing), in the order of `keys`. */
    async fieldsOf(keys: readonly string[]): Promise<(string | null)[][]> {
      const out = new Map<string, (string | null)[]>();
      const alone: string[] = [];
      await Promise.all(
        byNode(keys).map(async (group) => {
          let flat: (string | null)[];
          try {
            flat = await ports.fieldsMany(group.map(sessionKey));
          } catch {
            alone.push(...group);
            return;
          }
          group.forEach((k, i) => {
            const [e, u, l] = flat.slice(3 * i, 3 * i + 3);
            if (typeof e === 'string' && e.startsWith('ERR')) alone.push(k);
            else out.set(k, [e ?? null, u ?? null, l ?? null]);
          });
        }),
      );
      const single = await Promise.all(alone.map((k) => ports.fields(sessionKey(k))));
      for (const [i, k] of alone.entries()) out.set(k, single[i]!);
      return keys.map((k) => out.get(k)!);
    },

    /** Delete each of `keys` still bound to `userId`; resolves those deleted. */
    async destroyOwned(userId: string, keys: readonly string[]): Promise<string[]> {
      const deleted: string[] = [];
      const alone: string[] = [];
      await Promise.all(
        byNode(keys).map(async (group) => {
          let status: number[];
          try {
            status = await ports.destroyMany(userId, group.map(sessionKey));
          } catch {
            alone.push(...group);
            return;
          }
          group.forEach((k, i) => {
            if (status[i] === 1) deleted.push(k);
            else if (status[i] === -1) alone.push(k);
          });
        }),
      );
      const single = await Promise.all(alone.map((k) => ports.destroy(userId, sessionKey(k))));
      for (const [i, k] of alone.entries()) if (single[i]) deleted.push(k);
      return deleted;
    },
  };
}
