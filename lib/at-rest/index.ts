/**
 * Encryption at rest for the three programs' LevelDB stores: one codec seam (AES-256-GCM, a random
 * nonce per record, the key id stored with each value), keys from a `KeyProvider` (a key file by
 * default, a systemd credential on a real box), and a background pass that moves old values to the
 * current key. See docs/encryption-at-rest.md for what it protects against and what not.
 */
export * from './key-provider.js';
export * from './seal.js';
export * from './level-encoding.js';
export * from './write-gate.js';
export * from './reencrypt.js';
export * from './options.js';
