// Slipway as a library: the project-level operations the CLI commands are made of (build, export, cleanup,
// purge, with events as they happen), and the building blocks under them.
export * from './errors.js';
export {
  buildProject, exportProject, cleanupProject, purgeProject,
  type BuildProjectOptions, type ExportProjectOptions, type CleanupProjectOptions, type PurgeProjectOptions,
  type ProjectOptions, type ProjectEvent, type ProjectEventListener,
} from './operations/index.js';
export type { CleanupResult, CleanupPlan, PlannedTag } from './cleanup/index.js';
export * from './oci/index.js';
export { RegistryClient, type RegistryClientOptions, type BlobUpload } from './registry/client.js';
export { dockerConfigCredentials, staticCredentials, type Credentials, type CredentialStore } from './registry/auth/credentials.js';
export type { ImageStore, BlobSource, BlobWriteResult } from './store/image-store.js';
export { RegistryStore } from './store/registry-store.js';
export { OciLayoutStore } from './store/oci-layout-store.js';
export { copyImage, type CopyOptions, type CopyResult } from './store/copy-image.js';
export { openLocation, type ImageLocation } from './store/location.js';
export { loadProject, loadWerfConfig, selectImages } from './config/index.js';
export type { WerfConfig, WerfImage } from './config/index.js';
export { buildImages, type BuildImagesOptions, type BuildResult, type BuiltImage } from './builder/build-images.js';
export { buildReport, type BuildReport } from './builder/build-report.js';
export { openStagesStorage, StagesStorage } from './stages/index.js';
export { exportImages, type ExportImagesOptions, type ExportSource, type ExportedDestination } from './export/export-images.js';
export { relabel, type ExportEdit } from './export/relabel.js';
export { exportLabels, parseAddLabels } from './export/labels.js';
export { validateTagTemplates, destinationFor } from './export/tag-template.js';
export { OciArchiveStore } from './store/oci-archive-store.js';
