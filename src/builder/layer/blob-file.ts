// A temp file written sequentially through a 1 MiB buffer, hashed and counted on the way.

import { createHash, randomBytes, type Hash } from 'node:crypto';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

const BUFFER_SIZE = 1024 * 1024;

export class HashingFileWriter {
  private readonly hash: Hash = createHash('sha256');
  private readonly buffer = Buffer.allocUnsafe(BUFFER_SIZE);
  private fill = 0;
  size = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /** Create a new, uniquely named file in `dir` (made when missing). */
  static async create(dir: string, prefix: string): Promise<HashingFileWriter> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${prefix}${randomBytes(8).toString('hex')}.tmp`);
    const handle = await open(path, 'wx', 0o644);
    return new HashingFileWriter(path, handle);
  }

  /** Copies `data`: the caller may reuse its buffer once this resolved. */
  write = async (data: Uint8Array): Promise<void> => {
    this.hash.update(data);
    this.size += data.length;
    let offset = 0;
    while (offset < data.length) {
      const n = Math.min(BUFFER_SIZE - this.fill, data.length - offset);
      this.buffer.set(data.subarray(offset, offset + n), this.fill);
      this.fill += n;
      offset += n;
      if (this.fill === BUFFER_SIZE) await this.flush();
    }
  };

  private async flush(): Promise<void> {
    let written = 0;
    while (written < this.fill) {
      const { bytesWritten } = await this.handle.write(this.buffer, written, this.fill - written);
      written += bytesWritten;
    }
    this.fill = 0;
  }

  /** Flush, close and return the sha256 digest of everything written. */
  async finish(): Promise<string> {
    await this.flush();
    await this.handle.close();
    return `sha256:${this.hash.digest('hex')}`;
  }

  /** Close and delete the file; never throws. */
  async discard(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.path, { force: true }).catch(() => undefined);
  }
}
