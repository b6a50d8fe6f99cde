// Apply an export: each image is relabelled once, then copied to every destination its
// templates render. Destinations in one repository share one blob transfer; each extra
// tag there is a manifest PUT. Images are exported concurrently.

import pLimit from 'p-limit';
import type { Descriptor } from '../oci/index.js';
import type { RegistryClient } from '../registry/client.js';
import { copyImage, settleAll } from '../store/copy-image.js';
import { closeStore, type ImageStore } from '../store/image-store.js';
import { OciArchiveStore } from '../store/oci-archive-store.js';
import { openLocation, storeKeyOf } from '../store/location.js';
import { relabel, type ExportEdit } from './relabel.js';
import { formatDestination, type ExportDestination } from './tag-template.js';

/** An image to export: where its content-based tag lives. */
export interface ExportSource {
  name: string;
  store: ImageStore;
  /** The content-based tag in `store`. */
  tag: string;
  /** The manifest digest under `tag`, when known: the export then reads the manifest by digest. */
  digest?: string;
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
  /** Called once per image when all its destinations are written, so parallel exports log whole blocks. */
  imageExported(name: string, destinations: readonly ExportedDestination[]): void;
  /** A blob starts moving to a destination. */
  blobStarted?(image: string, destination: string, descriptor: Descriptor): void;
  /** Bytes of a blob moved so far; asking for it makes the copy count them. */
  blobProgress?(image: string, destination: string, descriptor: Descriptor, bytes: number): void;
  /** A blob reached a destination (uploaded, mounted or already there): for a progress line. */
  blobWritten?(image: string, destination: string, descriptor: Descriptor, result: 'present' | 'mounted' | 'uploaded'): void;
}

export interface ExportImagesOptions {
  sources: readonly ExportSource[];
  /** The destinations of one image: every --tag template rendered for it. */
  destinationsFor(source: ExportSource): ExportDestination[];
  edit: ExportEdit;
  client: RegistryClient;
  parallelTasksLimit?: number;
  log: ExportLog;
}

export async function exportImages(options: ExportImagesOptions): Promise<ExportedDestination[]> {
  const limit = pLimit({ concurrency: options.parallelTasksLimit !== undefined && options.parallelTasksLimit > 0 ? options.parallelTasksLimit : Infinity, rejectOnClear: true });
  const sorted = [...options.sources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const stores = new DestinationStores(options.client);
  // An image with an archive destination is told about only once the archives are written (at close):
  // nothing reads as exported before it is on disk.
  const deferred: [string, ExportedDestination[]][] = [];
  const tasks = sorted.map((source) => limit(async () => {
    const { destinations, packedAtClose } = await exportOne(options, stores, source);
    if (packedAtClose) deferred.push([source.name, destinations]);
    else options.log.imageExported(source.name, destinations);
    return destinations;
  }));
  // On the first failure no further image starts, and the ones running finish before the stores are discarded.
  for (const task of tasks) task.catch(() => limit.clearQueue());
  let results: ExportedDestination[][];
  try {
    results = await settleAll(tasks);
  } catch (error) {
    await stores.close(true).catch(() => undefined);
    throw error;
  }
  await stores.close(false);
  for (const [name, destinations] of deferred) options.log.imageExported(name, destinations);
  return results.flat();
}

/**
 * Destination stores, opened once per run and shared by every image: several images
 * exported into one OCI layout or archive must write through one store.
 */
class DestinationStores {
  private readonly opened = new Map<string, Promise<ImageStore>>();

  constructor(private readonly client: RegistryClient) {}

  async open(destination: ExportDestination): Promise<ImageStore> {
    const key = storeKeyOf(destination);
    let store = this.opened.get(key);
    if (!store) {
      store = openLocation(destination, { client: this.client, create: true }).then((l) => l.store);
      this.opened.set(key, store);
    }
    return store;
  }

  /** Close every store (committing archives), or after a failure discard what they hold. */
  async close(failed: boolean): Promise<void> {
    const stores = await Promise.allSettled(this.opened.values());
    await Promise.all(stores.flatMap((s) => (s.status === 'fulfilled' ? [closeStore(s.value, failed)] : [])));
  }
}

async function exportOne(options: ExportImagesOptions, stores: DestinationStores, source: ExportSource): Promise<{ destinations: ExportedDestination[]; packedAtClose: boolean }> {
  const edited = await relabel(source.store, source.digest ?? source.tag, options.edit);
  // Group by destination store: one blob transfer per repository, then one PUT per tag.
  const groups = new Map<ImageStore, { tags: string[]; destinations: string[] }>();
  for (const destination of options.destinationsFor(source)) {
    const store = await stores.open(destination);
    const group = groups.get(store) ?? { tags: [], destinations: [] };
    group.tags.push(destination.kind === 'registry' ? destination.reference.tag : destination.tag);
    group.destinations.push(formatDestination(destination));
    groups.set(store, group);
  }
  const out: ExportedDestination[] = [];
  for (const [store, group] of groups) {
    const { log } = options;
    const result = await copyImage(edited.store, edited.digest, store, {
      tags: group.tags,
      onBlobStart: (descriptor) => log.blobStarted?.(source.name, store.name, descriptor),
      ...(log.blobProgress ? { onBlobProgress: (descriptor: Descriptor, bytes: number) => log.blobProgress!(source.name, store.name, descriptor, bytes) } : {}),
      onBlob: (descriptor, outcome) => log.blobWritten?.(source.name, store.name, descriptor, outcome),
    });
    group.tags.forEach((tag, i) => {
      const skipped = result.upToDate.includes(tag);
      const destination = group.destinations[i]!;
      out.push({
        image: source.name, source: `${source.store.name}:${source.tag}`, destination, digest: edited.digest,
        mediaType: edited.mediaType, platforms: edited.children, skipped,
      });
    });
  }
  return { destinations: out, packedAtClose: [...groups.keys()].some((store) => store instanceof OciArchiveStore) };
}
