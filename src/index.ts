// Slipway as a library: the same building blocks the CLI uses.
export * from './errors.js';
export * from './oci/index.js';
export { RegistryClient, type RegistryClientOptions, type BlobUpload } from './registry/client.js';
export { dockerConfigCredentials, staticCredentials, type Credentials, type CredentialStore } from './registry/auth/credentials.js';
export type { ImageStore, BlobSource, BlobWriteResult } from './store/image-store.js';
export { RegistryStore } from './store/registry-store.js';
export { OciLayoutStore } from './store/oci-layout-store.js';
export { copyImage, type CopyOptions, type CopyResult } from './store/copy-image.js';
export { openLocation, type ImageLocation } from './store/open-store.js';
