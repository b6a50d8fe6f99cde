// What is mounted on the host (this process's mount namespace) below some directories: a check that a sandbox
// left nothing mounted that does not depend on what other processes on the machine mount meanwhile.
import { readFile } from 'node:fs/promises';

/** Mount points at or below any of `dirs`. */
export async function mountsUnder(...dirs: string[]): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  // Field 5 is the mount point, with spaces and other bytes escaped as \ooo.
  const points = text.split('\n').filter(Boolean).map((line) => line.split(' ')[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  return points.filter((point) => dirs.some((dir) => point === dir || point.startsWith(`${dir}/`)));
}
