/**
 * Redis Cluster's key → slot function (CRC16/XMODEM of the key's hash tag, mod 16384), so that
 * per-user work on a Cluster can send one script per node instead of one command per session.
 * @internal
 */

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
