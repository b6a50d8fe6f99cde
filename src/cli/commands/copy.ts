import { NotFoundError } from '../../errors.js';
import { copyImage } from '../../store/copy-image.js';
import { closeStore } from '../../store/image-store.js';
import { openLocation } from '../../store/open-store.js';
import { defineCommand } from '../command.js';
import { REGISTRY_OPTION_NAMES, registryClientFor } from '../registry-client.js';

export const copyCommand = defineCommand({
  name: 'copy',
  summary: 'Copy an image or index between registries and OCI layouts',
  description:
    'Copy an image or a multi-platform index, blobs first and the tag last. Locations are image references ' +
    '(optionally docker://REF) or oci:DIR[:TAG]. Blobs present at the destination are skipped, blobs in another ' +
    'repository of the same registry are mounted, everything else streams from source to destination.',
  arguments: [
    { syntax: '<source>', help: 'image to read: REF, docker://REF or oci:DIR[:TAG]' },
    { syntax: '<destination>', help: 'where to write it: REF, docker://REF or oci:DIR[:TAG]' },
  ],
  options: [...REGISTRY_OPTION_NAMES, 'parallelTasksLimit'],
  async run({ options, args, log, io, env }) {
    const [source, destination] = args as [string, string];
    const client = registryClientFor(options, env, log);
    try {
      const src = await openLocation(source, { client });
      // The source must exist before the destination is made: a failed copy leaves no empty layout behind.
      if ((await src.store.resolve(src.target)) === undefined) {
        await src.store.close();
        throw new NotFoundError(`manifest ${source} not found`, { hint: 'check the image reference, tag or digest' });
      }
      const dst = await openLocation(destination, { client, create: true }).catch(async (error: unknown) => {
        await src.store.close();
        throw error;
      });
      const limit = options.parallelTasksLimit > 0 ? options.parallelTasksLimit : 64;
      let result: Awaited<ReturnType<typeof copyImage>>;
      try {
        result = await copyImage(src.store, src.target, dst.store, { ...(dst.tag ? { tag: dst.tag } : {}), concurrency: limit });
      } catch (error) {
        await Promise.allSettled([src.store.close(), closeStore(dst.store, true)]);
        throw error;
      }
      // The destination is complete (an archive is written) before anything says so.
      await Promise.all([src.store.close(), dst.store.close()]);
      const { uploaded, mounted, present } = result.blobs;
      io.stdout(result.skipped
        ? `${destination} already holds ${result.digest}\n`
        : `Copied ${source} to ${destination}: ${result.digest} (blobs: ${uploaded} copied, ${mounted} mounted, ${present} present; ${formatBytes(result.bytesUploaded)} moved)\n`);
    } finally {
      await client.close();
    }
  },
});

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${bytes} B`;
}
