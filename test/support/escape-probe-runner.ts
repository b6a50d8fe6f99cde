// Subprocess entry point of test/integration/run-escape.test.ts for Slipway's rootless mode: started as an
// unprivileged user (setpriv), so that src/builder/run/privileges.ts decides `rootless` at load. Builds the
// probe layer in a cache of its own and runs each probe with runInSandbox.
//
//   node --import tsx test/support/escape-probe-runner.ts <args.json>
//   args: { work: string (a directory this user owns), chrootEscape: string, probes: ProbeRequest[] }
// Prints one JSON line: { uid, results: ProbeResult[] } (or { error }).
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { probeLayerStack, runProbe, type ProbeRequest, type ProbeResult } from './escape-probes.js';

interface Args {
  work: string;
  chrootEscape: string;
  probes: ProbeRequest[];
}

async function main(): Promise<void> {
  const args = JSON.parse(await readFile(process.argv[2]!, 'utf8')) as Args;
  // It may hold a secret's value: gone before any probe searches the disk for it.
  await rm(process.argv[2]!);
  const blobs = join(args.work, 'blobs');
  await mkdir(blobs, { recursive: true });
  const { layers, stack } = await probeLayerStack(join(args.work, 'cache'), blobs, args.chrootEscape);
  const results: ProbeResult[] = [];
  for (const probe of args.probes) results.push(await runProbe(layers, stack, probe));
  process.stdout.write(`${JSON.stringify({ uid: process.getuid?.(), results })}\n`);
}

main().catch((error: unknown) => {
  process.stdout.write(`${JSON.stringify({ error: error instanceof Error ? `${error.message}${(error as { hint?: string }).hint ? ` (${(error as { hint?: string }).hint})` : ''}\n${error.stack}` : String(error) })}\n`);
  process.exitCode = 1;
});
