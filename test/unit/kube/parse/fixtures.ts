/** A JSON payload from test/fixtures/kube. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const fx = (name: string): Record<string, unknown> =>
  JSON.parse(
    readFileSync(join(import.meta.dirname, '..', '..', '..', 'fixtures', 'kube', name), 'utf8'),
  );
