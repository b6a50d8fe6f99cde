// A stage image in the stages storage, as both builders (Dockerfile and stapel) keep it while they build: adopting a
// stage found there, and publishing a state as a new stage, blobs first and the tag last, inside the per-digest
// critical section so that only the runner that wins uploads anything.

import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import pLimit from 'p-limit';
import { BuildError } from '../errors.js';
import { MediaType, encodeDocument, encodeManifest, type Descriptor, type ImageConfig } from '../oci/index.js';
import { SERVICE_LABELS, stageDigest, type StageDescriptor } from '../stages/index.js';
import type { ImageStore } from '../store/image-store.js';
import type { BuildServices } from './build-state.js';
import { cloneConfig, containerConfig } from './image-config.js';
import type { BuiltLayer } from './layer/types.js';

/** Base layers copied (or mounted) into the stages storage at once. */
const BASE_LAYER_CONCURRENCY = 4;

/** What a builder's state holds of its stage image. */
export interface StageImageState {
  config: ImageConfig;
  layers: Descriptor[];
  /** Where layers that are not yet in the stages storage can be read (the base image's repository). */
  layerSource: ImageStore | undefined;
  /** The last stage published (or found) for this state. */
  published: StageDescriptor | undefined;
  manifestDigest: string | undefined;
  configDigest?: string | undefined;
  /** A Slipway stage this state starts from: the first stage's parent, so cleanup keeps it. */
  baseStageTag?: string | undefined;
}

/** Continue from a stage found in the storage: its config and layers become the state. */
export async function adoptStage(services: Pick<BuildServices, 'storage'>, state: StageImageState, stage: StageDescriptor): Promise<void> {
  const image = await services.storage.getStageImage(stage);
  if (image.manifest.kind !== 'image') throw new BuildError(`stage ${stage.tag} is not an image manifest`);
  state.config = cloneConfig(image.config.parsed);
  state.layers = [...image.manifest.parsed.layers];
  state.layerSource = undefined;
  state.published = stage;
  state.manifestDigest = image.manifest.digest;
  state.configDigest = image.config.digest;
}

/** The base image's layers (when they are not in the stages storage yet), copied or mounted there, largest first. */
export async function writeBaseLayers(store: ImageStore, state: StageImageState): Promise<void> {
  const source = state.layerSource;
  if (!source) return;
  const mountFrom = source.repository && store.repository && source.repository.registry === store.repository.registry ? source.repository : undefined;
  const limit = pLimit(BASE_LAYER_CONCURRENCY);
  const largestFirst = [...state.layers].sort((a, b) => b.size - a.size);
  await Promise.all(largestFirst.map((descriptor) => limit(() => store.writeBlob({ descriptor, open: () => source.readBlob(descriptor), ...(mountFrom ? { mountFrom } : {}) }))));
}

export interface PublishStageOptions {
  /** The stage's digest (its tag's prefix). */
  digest: string;
  /** A new layer to add on top (its blob is written inside the critical section). Layers already in `state.layers` must be written before. */
  layer?: BuiltLayer;
  /** A last edit of the config, after the service labels. */
  edit?: (config: ImageConfig) => void;
}

/**
 * Publish the state as the stage of `digest`. Returns whether this runner pushed it; when another runner published
 * the digest first, its stage is adopted instead.
 */
export async function publishStage(services: Pick<BuildServices, 'storage' | 'project' | 'version' | 'files'>, state: StageImageState, options: PublishStageOptions): Promise<{ pushed: boolean; published: StageDescriptor }> {
  const { storage, project, version, files } = services;
  const store = storage.store;
  const config = cloneConfig(state.config);
  const labels = { ...(containerConfig(config).Labels ?? {}) };
  labels[SERVICE_LABELS.project] = project;
  labels[SERVICE_LABELS.version] = version;
  labels[SERVICE_LABELS.stageContentDigest] = stageDigest([options.digest, 'content']);
  const parent = state.published?.tag ?? state.baseStageTag;
  if (parent) labels[SERVICE_LABELS.parentStageId] = parent;
  else delete labels[SERVICE_LABELS.parentStageId];
  if (files.commit) labels[SERVICE_LABELS.projectRepoCommit] = files.commit.hash;
  containerConfig(config).Labels = labels;
  options.edit?.(config);
  const { layer } = options;
  const layers = [...state.layers];
  if (layer) {
    layers.push({ mediaType: layer.mediaType, digest: layer.digest, size: layer.size });
    config.rootfs = { type: 'layers', diff_ids: [...(config.rootfs?.diff_ids ?? []), layer.diffId] };
  }
  const configDoc = encodeDocument(config, MediaType.OciConfig);
  const configDescriptor: Descriptor = { mediaType: MediaType.OciConfig, digest: configDoc.digest, size: configDoc.bytes.length };
  const manifest = encodeManifest({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDescriptor, layers }, MediaType.OciManifest);

  const writeBlobs = async (): Promise<void> => {
    await writeBaseLayers(store, state);
    if (layer) await store.writeBlob({ descriptor: layers[layers.length - 1]!, open: async () => createReadStream(layer.path) });
    await store.writeBlob({ descriptor: configDescriptor, open: async () => Readable.from([Buffer.from(configDoc.bytes)]) });
  };

  let pushed = false;
  // Blobs are written inside the per-digest critical section: runners that built the same stage do not upload the
  // same blobs at once (distribution's blob links race then), and only the winner uploads at all.
  const published = await storage.publishStage(options.digest, async (tag) => {
    pushed = true;
    await writeBlobs();
    await store.putManifest(manifest, tag);
    return { manifestDigest: manifest.digest };
  }, state.published ? { minTimestamp: state.published.timestamp } : {});
  if (pushed) {
    state.config = config;
    state.layers = layers;
    state.layerSource = undefined;
    state.published = published;
    state.manifestDigest = manifest.digest;
    state.configDigest = configDoc.digest;
  } else {
    // Another runner published this digest while we built: theirs wins, ours is dropped.
    await adoptStage(services, state, published);
  }
  return { pushed, published };
}
