import { open, rm } from 'node:fs/promises';

/** Write a stream of bytes to a new file at `path`; nothing is left behind on failure. */
export async function spoolTo(body: AsyncIterable<Uint8Array>, path: string): Promise<number> {
  const handle = await open(path, 'wx', 0o600);
  let size = 0;
  try {
    for await (const chunk of body) {
      let offset = 0;
      while (offset < chunk.length) {
        const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
        offset += bytesWritten;
      }
      size += chunk.length;
    }
    await handle.close();
    return size;
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(path, { force: true }).catch(() => undefined);
    throw error;
  }
}
