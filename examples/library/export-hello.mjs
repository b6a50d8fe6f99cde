// Slipway as a library: build the images of examples/hello into a local store and export them to an OCI image
// layout, with a label added, reporting progress through events. What `slipway export` does, from a program.
//
//   node examples/library/export-hello.mjs OUT_DIR [SLIPWAY_HOME]
//
// (After `npm run build`. From another project, import from 'slipway' the same way.)
import { exportProject } from 'slipway';

const [out = 'hello-export', home] = process.argv.slice(2);
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());

const exported = await exportProject({
  project: { dir: new URL('../hello', import.meta.url).pathname },
  ...(home ? { home } : {}),
  tags: [`oci:${out}:%image%`],
  addLabels: { 'org.opencontainers.image.created': '2026-11-26' },
  signal: controller.signal,
  onEvent: (event) => {
    if (event.type === 'stage-built') console.error(`built ${event.image}/${event.stage}`);
    if (event.type === 'stage-reused') console.error(`reused ${event.image}/${event.stage}`);
    if (event.type === 'image-exported') console.error(`exported ${event.image}`);
  },
});
for (const { destination, digest } of exported) console.log(`${destination}@${digest}`);
