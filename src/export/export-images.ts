// Apply an export: each image is relabelled once, then copied to every destination its
// templates render. Destinations in one repository share one blob transfer; each extra
// tag there is a manifest PUT. Images are exported concurrently.

import pLimit from 'p-limit';
import type { RegistryClient } from '../registry/client.js';
import { copyImage } from '../store/copy-image.js';
import type { ImageStore } from '../store/image-store.js';
import { openLocation } from '../store/open-store.js';
import { relabel, type ExportEdit } from './relabel.js';

/** An image to export: where its content-based tag lives. */
export interface ExportSource {
  name: string;
  store: ImageStore;
  /** The content-based tag in `store`. */
  tag: string;
}

export interface ExportedDestination {
  image: string;
  /** The source, as `<store>:<content-based tag>`. */
  source: string;
  /** The destination as rendered (e.g. `example.org/team/app:latest` or `oci:/out:app`). */
  destination: string;
  digest: string;
  mediaType: string;
  /** Number of platform images (1 for a plain image). */
  platforms: number;
  /** The destination already pointed at exactly this manifest. */
  skipped: boolean;
}

export interface ExportLog {
  image(name: string): void;
  destination(name: string, destination: string, digest: string, skipped: boolean): void;
}

export interface ExportImagesOptions {
  sources: readonly ExportSource[];
  /** The destinations of one image: every --tag template rendered for it. */
  destinationsFor(source: ExportSource): string[];
  edit: ExportEdit;
  client: RegistryClient;
  parallelTasksLimit?: number;
  log: ExportLog;
}

export async function exportImages(options: ExportImagesOptions): Promise<ExportedDestination[]> {
  const limit = pLimit(options.parallelTasksLimit !== undefined && options.parallelTasksLimit > 0 ? options.parallelTasksLimit : Infinity);
  const sorted = [...options.sources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const results = await Promise.all(sorted.map((source) => limit(() => exportOne(options, source))));
  return results.flat();
}

async function exportOne(options: ExportImagesOptions, source: ExportSource): Promise<ExportedDestination[]> {
  options.log.image(source.name);
  const edited = await relabel(source.store, source.tag, options.edit);
  // Group by destination store: one blob transfer per repository, then one PUT per tag.
  const groups = new Map<string, { store: ImageStore; tags: string[]; destinations: string[] }>();
  const opened: ImageStore[] = [];
  try {
    for (const destination of options.destinationsFor(source)) {
      const location = await openLocation(destination, { client: options.client, create: true });
      const group = groups.get(location.store.name);
      if (group) {
        group.tags.push(location.tag ?? 'latest');
        group.destinations.push(destination);
        await location.store.close();
      } else {
        opened.push(location.store);
        groups.set(location.store.name, { store: location.store, tags: [location.tag ?? 'latest'], destinations: [destination] });
      }
    }
    const out: ExportedDestination[] = [];
    for (const group of groups.values()) {
      const result = await copyImage(edited.store, edited.digest, group.store, { tags: group.tags });
      group.tags.forEach((tag, i) => {
        const skipped = result.upToDate.includes(tag);
        const destination = group.destinations[i]!;
        options.log.destination(source.name, destination, edited.digest, skipped);
        out.push({
          image: source.name, source: `${source.store.name}:${source.tag}`, destination, digest: edited.digest,
          mediaType: edited.mediaType, platforms: edited.children, skipped,
        });
      });
    }
    return out;
  } finally {
    await Promise.all(opened.map((store) => store.close()));
  }
}
