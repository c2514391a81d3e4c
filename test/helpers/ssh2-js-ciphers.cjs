// Preload (NODE_OPTIONS=--require=…/ssh2-js-ciphers.cjs): ssh2's optional native cipher
// binding (sshcrypto.node) fails to load, so ssh2 runs its JavaScript ciphers, as it does on
// Node 26 (the binding does not compile there) or where it was installed without a compiler.
// .ci/run uses it when every runtime it tested had the binding. Test-only.
'use strict';
const Module = require('node:module');
const loadNative = Module._extensions['.node'];
Module._extensions['.node'] = function (module, filename) {
  if (/[\\/]sshcrypto\.node$/.test(filename)) {
    throw new Error('ssh2 native crypto hidden by test/helpers/ssh2-js-ciphers.cjs');
  }
  return loadNative.call(this, module, filename);
};
