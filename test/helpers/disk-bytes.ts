/** Reading what a test downloads from the datastore: the first bytes of a file, an ext4 superblock's UUID. */
import type { Readable } from 'node:stream';

/** The stream's bytes up to `limit` (at least), then the stream is closed. */
export async function bytesOf(stream: Readable, limit = Infinity): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    length += (chunk as Buffer).length;
    if (length >= limit) break;
  }
  stream.destroy();
  return Buffer.concat(chunks);
}

/** The ext4 UUID in a superblock (at byte 1024, UUID at 0x68) as blkid prints it; undefined when no ext4 starts there. */
export function ext4Uuid(bytes: Buffer): string | undefined {
  if (bytes.length < 2048 || bytes.readUInt16LE(1024 + 0x38) !== 0xef53) return undefined;
  const h = bytes.subarray(1024 + 0x68, 1024 + 0x78).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
