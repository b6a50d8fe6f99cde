// `slipway copy SOURCE DESTINATION [--tag TAG...] [--digestfile FILE]`: one image or index, blobs first and the
// tags last, to the destination's tag and every extra `--tag` in the same repository, in one transfer. stdout
// gets one `destination@digest` line per tag written, as export prints them; the summary goes to the log.

import { NotFoundError, UsageError } from '../../errors.js';
import { TAG_PATTERN } from '../../oci/reference.js'; // not the oci index: version and --help need no crypto
import { defineCommand } from '../command.js';
import { checkOutputFile, writeOutputFile } from '../output-file.js';
import { formatBytes } from '../progress.js';
import { REGISTRY_OPTION_NAMES, registryClientFor } from '../registry-client.js';
import { resolve } from 'node:path';

export const copyCommand = defineCommand({
  name: 'copy',
  summary: 'Copy an image or index between registries and OCI layouts',
  description:
    'Copy an image or a multi-platform index, blobs first and the tags last. Locations are image references ' +
    '(optionally docker://REF), oci:DIR[:TAG] or oci-archive:FILE[:TAG]. Blobs present at the destination are skipped, ' +
    'blobs in another repository of the same registry are mounted, everything else streams from source to destination.',
  arguments: [
    { syntax: '<source>', help: 'image to read: REF, docker://REF, oci:DIR[:TAG] or oci-archive:FILE[:TAG]' },
    { syntax: '<destination>', help: 'where to write it: REF, docker://REF, oci:DIR[:TAG] or oci-archive:FILE[:TAG]' },
  ],
  options: [...REGISTRY_OPTION_NAMES, 'parallelTasksLimit', 'tag', 'digestfile'],
  optionHelp: { tag: 'Another tag for the copy in the destination repository, in the same transfer; repeat for several' },
  async run({ options, args, log, io, env }) {
    const [source, destination] = args as [string, string];
    for (const tag of options.tag) {
      if (!TAG_PATTERN.test(tag)) throw new UsageError(`--tag "${tag}" is not a valid tag`, { hint: 'a tag matches [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}' });
    }
    const digestFile = options.digestfile === undefined ? undefined : resolve(options.digestfile);
    if (digestFile !== undefined) await checkOutputFile(digestFile, '--digestfile');
    const [{ copyImage }, { closeStore }, { openLocation }] = await Promise.all([
      import('../../store/copy-image.js'), import('../../store/image-store.js'), import('../../store/location.js'),
    ]);
    const client = await registryClientFor(options, env, log);
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
      const tags = [...new Set([...(dst.tag !== undefined ? [dst.tag] : []), ...options.tag])];
      const limit = options.parallelTasksLimit > 0 ? options.parallelTasksLimit : 64;
      let result: Awaited<ReturnType<typeof copyImage>>;
      try {
        result = await copyImage(src.store, src.target, dst.store, { tags, concurrency: limit });
      } catch (error) {
        await Promise.allSettled([src.store.close(), closeStore(dst.store, true)]);
        throw error;
      }
      // The destination is complete (an archive is written) before anything says so.
      await Promise.all([src.store.close(), dst.store.close()]);
      if (digestFile !== undefined) await writeOutputFile(digestFile, result.digest);
      const { uploaded, mounted, present } = result.blobs;
      log.info(result.skipped
        ? `${destination} already holds ${result.digest}`
        : `Copied ${source} to ${destination}: ${result.digest} (blobs: ${uploaded} copied, ${mounted} mounted, ${present} present; ${formatBytes(result.bytesUploaded)} moved)`);
      // The destination as written, without its own tag: the base of every tag line.
      const base = dst.tag !== undefined && destination.endsWith(`:${dst.tag}`) ? destination.slice(0, -dst.tag.length - 1) : destination;
      if (tags.length === 0) io.stdout(`${destination}@${result.digest}\n`);
      for (const tag of tags) io.stdout(`${base}:${tag}@${result.digest}\n`);
    } finally {
      await client.close();
    }
  },
});
