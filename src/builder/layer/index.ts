// Layers: writing reproducible layer blobs, reading images' files back, tar archives.

export type { BuiltLayer, LayerEntry, LayerEntryType } from './types.js';
export { createLayer, IMPLICIT_DIR_MODE, LAYER_MTIME, type CreateLayerOptions } from './create-layer.js';
export { ParallelGzipWriter, DEFAULT_GZIP_BLOCK_SIZE, DEFAULT_GZIP_LEVEL, type ParallelGzipOptions } from './parallel-gzip.js';
export { DeflatePool, sharedDeflatePool } from './deflate-pool.js';
export { readImageFiles, readFilesFromImage, readFileFromImage, type ImageFiles, type LookupOptions, type ReadImageFilesOptions } from './image-files.js';
export { extractTarEntries, type ExtractTarOptions, type ExtractedTar } from './extract-tar.js';
export { decompressTar, isTarHeader, readTar, sniffCompression, type Compression, type TarRecord } from './tar-reader.js';
export { chownNeedsLookup, parseGroup, parsePasswd, resolveChown, type GroupEntry, type PasswdEntry } from './passwd.js';
export { comparePaths, normalizeArchivePath, pathProblem } from './paths.js';
