export * from './stage-id.js';
export * from './stages-storage.js';
export * from './local-storage.js';
export * from './metadata.js';
