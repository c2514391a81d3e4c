/**
 * The check groups `runChecks` runs, in order. A new group is one file beside this one
 * (exporting a CheckGroup named like the file) plus one line here, and its ids in ids.ts.
 * Each id is emitted by one group, so this order does not change the output: `runChecks`
 * sorts the findings (compareChecks).
 */
import { algorithms } from './algorithms.js';
import { bundles } from './bundles.js';
import { caConstraints } from './ca-constraints.js';
import { chain } from './chain.js';
import type { CheckGroup } from './context.js';
import { files } from './files.js';
import { keys } from './keys.js';
import { names } from './names.js';
import { serviceAccount } from './service-account.js';
import { usages } from './usages.js';
import { validity } from './validity.js';

export const CHECK_GROUPS: readonly CheckGroup[] = [
  validity,
  algorithms,
  chain,
  caConstraints,
  names,
  usages,
  keys,
  bundles,
  files,
  serviceAccount,
];
