/** `k8ops info`: where k8ops looks for its files. Exit code 0. */
import { cacheDir, configDir, resolveInventoryPath, stateDir } from '../config/paths.js';
import { EXIT, type Out } from './common.js';

export function infoCommand(
  a: { inventory?: string },
  version: string,
  out: Out,
  env: NodeJS.ProcessEnv,
): number {
  const where = resolveInventoryPath({ flag: a.inventory, env, cwd: process.cwd() });
  const lines = [
    `version     ${version}`,
    `inventory   ${where.found ? where.path : `none (looked at ${where.searched.join(', ')})`}`,
    `config dir  ${configDir(env)}`,
    `cache dir   ${cacheDir(env)} (demo lab: demo-lab/)`,
    `state dir   ${stateDir(env)} (audit log)`,
  ];
  out.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}
