/** The MTProto emulator and the GramJS helpers that reach it (see README.md). */
export * from './emulator.js';
export * from './gramjs-test-client.js';
