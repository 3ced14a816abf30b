import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What a reliability suite tried and what held, written by the test run itself to
 * reports/reliability/<key>.json; `npm run reliability:readme` turns the files into the README's
 * Reliability section. One file per figure, so parallel Jest workers never write the same file.
 */
export interface Figure {
  /** The suite, as the README lists it. */
  suite: string;
  /** What was tried: "13 forged-token kinds". */
  tried: string;
  /** What held: "13 × 401, 0 × 500". */
  held: string;
}

export const figuresDir = join(__dirname, '..', '..', 'reports', 'reliability');

export function recordFigure(key: string, figure: Figure): void {
  mkdirSync(figuresDir, { recursive: true });
  writeFileSync(join(figuresDir, `${key}.json`), `${JSON.stringify({ ...figure, measuredAt: new Date().toISOString(), node: process.version }, null, 2)}\n`);
}

/** 100000 → "100,000". */
export const count = (n: number) => n.toLocaleString('en-US');
