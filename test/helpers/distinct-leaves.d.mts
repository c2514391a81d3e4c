/** Types of distinct-leaves.mjs (plain JavaScript: the bench imports it without a build). */
export interface DistinctLeaves {
  dir: string;
  /** leaf-000000.pem … in order. */
  files: string[];
  caFile: string;
  /** Time spent making them (0 when the cached set was reused). */
  generatedMs: number;
}
export function distinctLeaves(opts: { dir: string; count: number; ca?: string }): DistinctLeaves;
export function leafName(i: number): string;
